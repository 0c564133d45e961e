import { hash53 } from '../../core/hash';
import type { NodeId } from '../../core/ids';
import type { ClientRequest } from '../../core/protocol';
import { applyKvOp, type KvOp, type KvOutput, type KvValue } from './kv-ops';

/** A client's last executed request and its reply, kept so a retry gets the same answer. */
export interface ClientRecord {
  readonly seq: number;
  readonly output: KvOutput;
}

export interface KvSnapshot {
  readonly kv: readonly (readonly [string, KvValue])[];
  readonly clients: readonly (readonly [NodeId, ClientRecord])[];
  /** Chain digest of everything executed up to the snapshot. */
  readonly chain: number;
}

export type ExecuteResult =
  | { readonly kind: 'executed'; readonly output: KvOutput }
  /** Already executed: the cached reply, not executed again (at-most-once). */
  | { readonly kind: 'duplicate'; readonly output: KvOutput }
  /** Older than the client's last executed request: the client has moved on; drop it. */
  | { readonly kind: 'stale' };

/**
 * Bound on remembered clients: the least recently executed is forgotten first. A forgotten
 * client is unknown again, so at-most-once then holds only within this horizon: a retry that
 * arrives after this many other clients executed would be executed a second time. Closing it
 * needs registered sessions whose expiry the client is told of (Raft's RegisterClient), which
 * the client protocols here do not have yet.
 */
export const MAX_CLIENT_RECORDS = 100_000;

/**
 * The key-value state machine with at-most-once execution (seed 004): the dedup table
 * (client → last seq + reply) is part of the replicated state, so it survives crashes and
 * leader changes, and a retried request is answered from it instead of running twice.
 */
export class KvMachine {
  private kv = new Map<string, KvValue>();
  private clients = new Map<NodeId, ClientRecord>();
  /** Rolling digest over executed commands: replicas that executed the same prefix agree. */
  chain = 0;

  execute(req: ClientRequest<KvOp>): ExecuteResult {
    const last = this.clients.get(req.client);
    if (last !== undefined) {
      if (req.seq === last.seq) return { kind: 'duplicate', output: last.output };
      if (req.seq < last.seq) return { kind: 'stale' };
    }
    const { next, output } = applyKvOp(this.kv.get(req.op.key) ?? null, req.op);
    if (next === null) this.kv.delete(req.op.key);
    else this.kv.set(req.op.key, next);
    // Re-insert so Map order is least-recently-executed first, for eviction.
    this.clients.delete(req.client);
    this.clients.set(req.client, { seq: req.seq, output });
    if (this.clients.size > MAX_CLIENT_RECORDS) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    return { kind: 'executed', output };
  }

  /** Whether (client, seq) has already been executed. */
  hasExecuted(client: NodeId, seq: number): boolean {
    const last = this.clients.get(client);
    return last !== undefined && seq <= last.seq;
  }

  cachedReply(client: NodeId, seq: number): KvOutput | undefined {
    const last = this.clients.get(client);
    return last !== undefined && last.seq === seq ? last.output : undefined;
  }

  /** Fold a command digest into the chain (call once per executed slot). */
  advanceChain(digest: string): void {
    this.chain = hash53(digest, this.chain % 4294967296);
  }

  get(key: string): KvValue {
    return this.kv.get(key) ?? null;
  }

  get size(): number {
    return this.kv.size;
  }

  snapshot(): KvSnapshot {
    return {
      kv: Array.from(this.kv.entries()),
      clients: Array.from(this.clients.entries()),
      chain: this.chain,
    };
  }

  restore(snapshot: KvSnapshot): void {
    this.kv = new Map(snapshot.kv);
    this.clients = new Map(snapshot.clients);
    this.chain = snapshot.chain;
  }
}
