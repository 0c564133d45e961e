import { digestOf } from '../../core/hash';
import type { NodeId } from '../../core/ids';
import type { ClientRequest } from '../../core/protocol';
import type { KvOp } from '../kv/kv-ops';
import type { KvSnapshot } from '../kv/kv-machine';
import type { ReplicaParts } from './replica-parts';
import type { ReplicaState } from './replica-state';

/**
 * Checkpoints and watermarks (paper, section 4.3): a checkpoint every K sequence numbers,
 * stable with 2f+1 matching CHECKPOINTs; the stable one is the low watermark h and everything
 * at or below it is garbage-collected. A replica left behind fetches the state (section 5.3).
 */
export class Checkpoints {
  constructor(
    private readonly s: ReplicaState,
    private readonly p: ReplicaParts,
  ) {}

  take(seq: number): void {
    const s = this.s;
    const state = s.machine.snapshot();
    const digest = digestOf(state);
    s.ownCheckpoints.set(seq, { digest, state });
    this.record(s.ctx.self, seq, digest);
    s.broadcast({ t: 'checkpoint', seq, digest });
  }

  /**
   * Votes are bounded without ever evicting a correct replica's: checkpoints are taken only at
   * multiples of K, so at most L/K sets lie within the watermarks (h, h+L]; above them a
   * sender keeps one vote, its latest. That one is what lets a replica left behind learn that
   * f+1 others moved on (the catch-up below), and a faulty sender cannot crowd out others.
   */
  onCheckpoint(from: NodeId, seq: number, digest: string): void {
    const s = this.s;
    if (seq <= s.h) return;
    if (seq % s.config.checkpointEvery !== 0) {
      return s.reject(
        from,
        `CHECKPOINT ${seq} is not a multiple of the checkpoint interval ${s.config.checkpointEvery}`,
      );
    }
    if (seq > s.h + s.config.logWindow) {
      for (const [k, votes] of s.checkpointVotes) {
        if (k === seq || k <= s.h + s.config.logWindow || !votes.delete(from)) continue;
        if (votes.size === 0) s.checkpointVotes.delete(k);
      }
    }
    this.record(from, seq, digest);
  }

  record(from: NodeId, seq: number, digest: string): void {
    const s = this.s;
    let votes = s.checkpointVotes.get(seq);
    if (votes === undefined) {
      votes = new Map();
      s.checkpointVotes.set(seq, votes);
    }
    votes.set(from, digest);
    const matching = Array.from(votes)
      .filter(([, d]) => d === digest)
      .map(([node]) => node);
    if (matching.length >= 2 * s.f + 1) this.makeStable(seq, digest, matching.sort());
    else if (
      matching.length >= s.f + 1 &&
      seq > s.executed &&
      (s.catchUp === null || seq > s.catchUp.seq)
    ) {
      // f+1 matching CHECKPOINTs: at least one correct replica executed up to seq with this
      // state. If this replica stops making progress, it fetches that state (paper, 5.3).
      s.catchUp = { seq, digest, from: matching.filter((n) => n !== s.ctx.self) };
    }
  }

  /** A checkpoint with 2f+1 matching votes is stable: move h, garbage-collect below it. */
  makeStable(seq: number, digest: string, proof: readonly NodeId[]): void {
    const s = this.s;
    if (seq <= s.h) return;
    s.h = seq;
    s.stableDigest = digest;
    s.stableProof = proof;
    for (const k of Array.from(s.slots.keys())) {
      if (k > seq) continue;
      s.slots.delete(k);
      s.ctx.persist(`slot:${k}`, undefined);
    }
    const own = s.ownCheckpoints.get(seq);
    if (own !== undefined) s.persistStable(seq, own.state);
    for (const k of s.checkpointVotes.keys()) if (k <= seq) s.checkpointVotes.delete(k);
    for (const k of s.ownCheckpoints.keys()) if (k < seq) s.ownCheckpoints.delete(k);
    if (s.nextSeq <= seq) s.nextSeq = seq + 1;
    if (s.executed < seq) this.fetchState();
    this.p.requests.proposeQueued();
  }

  /** Called when no progress was made for a tick: fetch the state f+1 replicas vouch for. */
  fetchCatchUpState(): void {
    const s = this.s;
    const target = s.catchUp;
    if (target === null) return;
    if (target.seq <= s.executed) {
      s.catchUp = null;
      return;
    }
    for (const node of target.from) s.send(node, { t: 'fetch-state', seq: target.seq });
  }

  fetchState(): void {
    const s = this.s;
    for (const node of s.stableProof) {
      if (node !== s.ctx.self) s.send(node, { t: 'fetch-state', seq: s.h });
    }
  }

  onFetchState(from: NodeId, seq: number): void {
    const own = this.s.ownCheckpoints.get(seq);
    if (own !== undefined) this.s.send(from, { t: 'state', seq, state: own.state });
  }

  /** State transfer: accepted only for the stable checkpoint, whose digest 2f+1 vouched for. */
  onState(seq: number, state: KvSnapshot): void {
    const s = this.s;
    if (s.executed >= seq) return;
    const digest = digestOf(state);
    const vouched =
      (seq === s.h && digest === s.stableDigest) ||
      (s.catchUp !== null && seq === s.catchUp.seq && digest === s.catchUp.digest);
    if (!vouched) return;
    s.catchUp = null;
    s.machine.restore(state);
    s.executed = seq;
    s.ownCheckpoints.set(seq, { digest, state });
    if (seq === s.h) s.persistStable(seq, state);
    if (seq > s.h) {
      // Our own CHECKPOINT for it: with the f+1 that vouched, it can become stable.
      this.record(s.ctx.self, seq, digest);
      s.broadcast({ t: 'checkpoint', seq, digest });
    }
    for (const key of Array.from(s.pending.keys())) {
      const req = s.pending.get(key) as ClientRequest<KvOp>;
      if (s.machine.hasExecuted(req.client, req.seq)) s.pending.delete(key);
    }
    s.emitCorrect({ kind: 'snapshot-installed', slot: seq, digest });
    this.p.normal.executeCommitted();
    this.p.timer.rearm();
  }

  /** Retransmission: this replica's latest own checkpoint, while it is not yet stable. */
  retransmitOwn(): void {
    const s = this.s;
    const ownLatest = Math.max(0, ...s.ownCheckpoints.keys());
    const own = s.ownCheckpoints.get(ownLatest);
    if (own !== undefined && ownLatest > s.h) {
      s.broadcast({ t: 'checkpoint', seq: ownLatest, digest: own.digest });
    }
  }
}
