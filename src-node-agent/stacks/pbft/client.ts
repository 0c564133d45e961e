import type { NodeId, TimerName } from '../../core/ids';
import type {
  ClientContext,
  ClientProtocol,
  ClientReply,
  ClientRequest,
} from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { ClientAuthenticator } from './client-auth';
import type { Hmac } from './hmac-sha256';
import type { PbftConfig } from './config';

const RETRY: TimerName = 'retry';

/**
 * The PBFT client (paper, section 4.1): sends its request to the primary it believes in and,
 * on a timeout, to every replica. It accepts a result only when f+1 distinct replicas sent
 * the same one — at least one of them is correct, so f liars cannot fool it. It follows a
 * primary hint only when f+1 replicas give the same hint. At-most-once by (client, seq).
 * Each request carries the client's MAC authenticator (client-auth.ts).
 */
export class PbftClient implements ClientProtocol<KvOp, KvOutput> {
  private readonly f: number;
  private seq = 0;
  private current: ClientRequest<KvOp> | null = null;
  private primary: NodeId;
  private retried = false;
  /** Per replica, its answer to the current request (JSON of the output). */
  private readonly answers = new Map<NodeId, string>();
  private readonly hints = new Map<NodeId, NodeId>();
  private readonly auth: ClientAuthenticator;

  constructor(
    private readonly ctx: ClientContext<KvOp, KvOutput>,
    private readonly config: PbftConfig,
    hmac?: Hmac,
  ) {
    this.f = Math.floor((ctx.servers.length - 1) / 3);
    this.primary = ctx.servers[0] as NodeId;
    this.auth = new ClientAuthenticator(ctx.servers, config.secret, hmac);
  }

  invoke(op: KvOp): void {
    if (this.current !== null) {
      throw new Error(
        `client ${this.ctx.self} invoked an operation while ${this.current.seq} is outstanding`,
      );
    }
    this.seq++;
    // Signed once: retries resend the same bytes, so the replicas' reply cache recognises it.
    this.current = this.auth.sign({ client: this.ctx.self, seq: this.seq, op });
    this.retried = false;
    this.answers.clear();
    this.send();
  }

  onReply(from: NodeId, reply: ClientReply<KvOutput>): void {
    const current = this.current;
    if (current === null || reply.seq !== current.seq || reply.client !== this.ctx.self) return;
    if (!this.ctx.servers.includes(from)) return;
    if (reply.type === 'redirect') {
      if (reply.leaderHint === null || !this.ctx.servers.includes(reply.leaderHint)) return;
      this.hints.set(from, reply.leaderHint);
      let agreeing = 0;
      for (const hint of this.hints.values()) if (hint === reply.leaderHint) agreeing++;
      if (agreeing >= this.f + 1) this.primary = reply.leaderHint;
      return;
    }
    if (reply.type !== 'ok') return;
    const answer = JSON.stringify(reply.output);
    this.answers.set(from, answer);
    let matching = 0;
    for (const a of this.answers.values()) if (a === answer) matching++;
    if (matching < this.f + 1) return;
    this.current = null;
    this.ctx.cancelTimer(RETRY);
    this.ctx.complete(reply.output);
  }

  onTimer(name: TimerName): void {
    if (name !== RETRY || this.current === null) return;
    this.retried = true;
    this.send();
  }

  private send(): void {
    if (this.current === null) return;
    if (this.retried) for (const s of this.ctx.servers) this.ctx.send(s, this.current);
    else this.ctx.send(this.primary, this.current);
    const retry_ms = this.config.clientRetry_ms;
    this.ctx.setTimer(RETRY, retry_ms + this.ctx.randomInt(Math.max(1, Math.floor(retry_ms / 2))));
  }
}
