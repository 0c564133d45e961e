import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ApiPush } from '../api/api-schema';
import { ApiCallError, notFound } from './api-error';
import { DisposableStore, toDisposable } from './disposables';
import type { PlaybackSession } from './playback/playback-session';
import { PassphraseRequests } from './passphrase-requests';
import { MAX_BUFFERED_BYTES, type PushTarget } from './push-target';
import type { TerminalSession } from './terminal/terminal-session';

/** Per-connection limits: a page needs a few of each; more means a leak in the page. */
export const MAX_PLAYBACKS_PER_CONNECTION = 8;
export const MAX_TERMINALS_PER_CONNECTION = 16;
/** Preflights going at once for one page (each may bring up namespaces or dial every host). */
export const MAX_PREFLIGHTS_PER_CONNECTION = 2;

/**
 * One page's WebSocket and everything it holds: run subscriptions, open playbacks, terminals.
 * All of it is released when the socket closes.
 */
export class ApiConnection implements PushTarget {
  readonly id = randomUUID();
  readonly store = new DisposableStore();
  readonly subscriptions = new Map<string, () => void>();
  readonly playbacks = new Map<string, PlaybackSession>();
  readonly terminals = new Map<string, TerminalSession>();
  private preflights = 0;
  /** Passphrases of encrypted SSH keys, asked of this page. */
  readonly passphrases: PassphraseRequests = new PassphraseRequests(this);

  constructor(private readonly socket: WebSocket) {
    this.store.add(toDisposable(() => this.passphrases.dispose()));
    this.store.add(
      toDisposable(() => {
        for (const unsubscribe of this.subscriptions.values()) unsubscribe();
        this.subscriptions.clear();
        for (const p of this.playbacks.values()) p.close();
        this.playbacks.clear();
        for (const t of this.terminals.values()) t.close();
        this.terminals.clear();
      }),
    );
  }

  push(message: ApiPush): void {
    if (this.store.isDisposed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  congested(): boolean {
    return this.socket.bufferedAmount > MAX_BUFFERED_BYTES;
  }

  playback(id: string): PlaybackSession {
    const p = this.playbacks.get(id);
    if (p === undefined) throw notFound('playback', id, 'open the recording first (playback.open)');
    return p;
  }

  terminal(id: string): TerminalSession {
    const t = this.terminals.get(id);
    if (t === undefined) throw notFound('terminal', id, 'it was closed or its shell exited');
    return t;
  }

  checkRoom(what: 'playbacks' | 'terminals'): void {
    const [size, max] =
      what === 'playbacks'
        ? [this.playbacks.size, MAX_PLAYBACKS_PER_CONNECTION]
        : [this.terminals.size, MAX_TERMINALS_PER_CONNECTION];
    if (size >= max) {
      throw new ApiCallError(
        'conflict',
        `${size} ${what} are open on this connection (the limit is ${max}); close one first`,
      );
    }
  }

  /** Count a preflight in; the returned function counts it out. */
  claimPreflight(): () => void {
    if (this.preflights >= MAX_PREFLIGHTS_PER_CONNECTION) {
      throw new ApiCallError(
        'conflict',
        `${this.preflights} preflights are already running for this page (the limit is ${MAX_PREFLIGHTS_PER_CONNECTION}); wait for them to finish`,
      );
    }
    this.preflights++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.preflights--;
    };
  }

  dispose(): void {
    this.store.dispose();
  }
}
