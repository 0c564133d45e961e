import { randomUUID } from 'node:crypto';
import type { ApiPush } from '../api/api-schema';
import type { PushTarget } from './push-target';
import { ApiCallError } from './api-error';

/** Questions open at once on one page; an SSH connect asks one key at a time. */
export const MAX_PENDING_PASSPHRASES = 8;
/** Unanswered this long, a question counts as cancelled (the connect fails, saying so). */
export const PASSPHRASE_TIMEOUT_MS = 120_000;

type PassphrasePush = Extract<ApiPush, { push: 'passphrase-request' }>;

interface Pending {
  readonly question: string;
  readonly promise: Promise<string | null>;
  readonly resolve: (passphrase: string | null) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Passphrase questions from SSH connects to the pages, which show a dialog and answer with
 * ssh.passphrase. The answer is handed to the key parser and dropped: nothing here keeps or
 * logs it. A question unanswered in time, or open when its owner is disposed, resolves as
 * cancelled. Connects to several hosts with one key run in parallel and ask at once: one
 * question per key and attempt is open, and they share its answer.
 *
 * Two owners use it: a page, for the preflight it started (the question dies with the page);
 * and the server, for runs, which outlive the page that started them: those questions go to
 * every page, and a page that connects later (a reload) is shown the open ones (`replayTo`).
 */
export class PassphraseRequests {
  private readonly pending = new Map<string, Pending & { readonly push: PassphrasePush }>();
  private closed = false;

  /** `where` names the owner in errors: "on this page", "for runs". */
  constructor(
    private readonly target: PushTarget,
    private readonly where = 'on this page',
  ) {}

  ask(keyPath: string, attempt: number): Promise<string | null> {
    if (this.closed) return Promise.resolve(null);
    const question = `${attempt}\0${keyPath}`;
    for (const p of this.pending.values()) if (p.question === question) return p.promise;
    if (this.pending.size >= MAX_PENDING_PASSPHRASES) {
      return Promise.reject(
        new Error(
          `${this.pending.size} passphrase questions are already open ${this.where}; answer or cancel them first`,
        ),
      );
    }
    const requestId = randomUUID();
    let resolve: (passphrase: string | null) => void = () => undefined;
    const promise = new Promise<string | null>((r) => (resolve = r));
    const timer = setTimeout(() => this.settle(requestId, null), PASSPHRASE_TIMEOUT_MS);
    timer.unref();
    const push: PassphrasePush = { push: 'passphrase-request', requestId, keyPath, attempt };
    this.pending.set(requestId, { question, promise, resolve, timer, push });
    this.target.push(push);
    return promise;
  }

  /** Whether `requestId` is one of this owner's open questions. */
  has(requestId: string): boolean {
    return this.pending.has(requestId);
  }

  /** Push every open question to `target`: a page that connected after they were asked. */
  replayTo(target: PushTarget): void {
    for (const p of this.pending.values()) target.push(p.push);
  }

  answer(requestId: string, passphrase: string | null): void {
    if (!this.pending.has(requestId)) {
      throw new ApiCallError(
        'not-found',
        `no open passphrase question "${requestId}": it was answered, timed out (after ${PASSPHRASE_TIMEOUT_MS / 1000} s) or its connection attempt ended; start the check or run again`,
      );
    }
    this.settle(requestId, passphrase);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The owner went away: every open question is cancelled. */
  dispose(): void {
    this.closed = true;
    for (const id of Array.from(this.pending.keys())) this.settle(id, null);
  }

  private settle(requestId: string, passphrase: string | null): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    this.target.push({ push: 'passphrase-request-closed', requestId });
    p.resolve(passphrase);
  }
}
