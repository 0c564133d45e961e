import type { NodeId, TimerName } from '../../core/ids';
import type {
  ClientContext,
  ClientProtocol,
  ClientReply,
  ClientRequest,
} from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import type { PaxosConfig } from './config';

const RETRY: TimerName = 'retry';

/**
 * The Multi-Paxos client: at-most-once as in seed 004 — every request carries the client id
 * and a sequence number; on a timeout the client "resends a copy of the request with its
 * original sequence number" (to the next server), never a new one, so the replicated client
 * table can answer a retry from its cache instead of executing it twice.
 */
export class PaxosClient implements ClientProtocol<KvOp, KvOutput> {
  private seq = 0;
  private current: ClientRequest<KvOp> | null = null;
  private target: NodeId;
  /** Redirects followed without waiting, since the last timer: stops redirect ping-pong. */
  private redirectsFollowed = 0;

  constructor(
    private readonly ctx: ClientContext<KvOp, KvOutput>,
    private readonly config: PaxosConfig,
  ) {
    this.target = ctx.servers[ctx.randomInt(ctx.servers.length)] as NodeId;
  }

  invoke(op: KvOp): void {
    if (this.current !== null) {
      throw new Error(
        `client ${this.ctx.self} invoked an operation while ${this.current.seq} is outstanding`,
      );
    }
    this.seq++;
    this.current = { client: this.ctx.self, seq: this.seq, op };
    this.redirectsFollowed = 0;
    this.send();
  }

  onReply(from: NodeId, reply: ClientReply<KvOutput>): void {
    const current = this.current;
    if (current === null || reply.seq !== current.seq || reply.client !== this.ctx.self) return;
    switch (reply.type) {
      case 'ok':
        this.current = null;
        this.target = from;
        this.ctx.cancelTimer(RETRY);
        this.ctx.complete(reply.output);
        return;
      case 'redirect':
        if (reply.leaderHint !== null && reply.leaderHint !== from && this.redirectsFollowed < 2) {
          this.redirectsFollowed++;
          this.target = reply.leaderHint;
          this.send();
        }
        return; // otherwise wait for the retry timer: there may be no leader right now
      case 'busy':
        return;
    }
  }

  onTimer(name: TimerName): void {
    if (name !== RETRY || this.current === null) return;
    const servers = this.ctx.servers;
    this.target = servers[(servers.indexOf(this.target) + 1) % servers.length] as NodeId;
    this.redirectsFollowed = 0;
    this.send();
  }

  private send(): void {
    if (this.current === null) return;
    this.ctx.send(this.target, this.current);
    const retry_ms = this.config.clientRetry_ms;
    this.ctx.setTimer(RETRY, retry_ms + this.ctx.randomInt(Math.max(1, Math.floor(retry_ms / 2))));
  }
}
