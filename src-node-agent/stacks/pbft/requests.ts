import type { NodeId } from '../../core/ids';
import type { ClientRequest } from '../../core/protocol';
import type { KvOp } from '../kv/kv-ops';
import { commandDigest } from './command-digest';
import type { Command } from './messages';
import type { ReplicaParts } from './replica-parts';
import { requestKey, type ReplicaState } from './replica-state';

/** Requests a backup holds for the view-change timer; beyond it new ones are not tracked. */
const MAX_PENDING = 100_000;

/**
 * Client requests (paper, section 4.1): authenticate them, answer repeats from the reply
 * cache, queue them at the primary, which assigns sequence numbers to batches within the
 * watermarks; a backup relays them to the primary and starts its view-change timer.
 */
export class RequestIntake {
  constructor(
    private readonly s: ReplicaState,
    private readonly p: ReplicaParts,
  ) {}

  onClientRequest(req: ClientRequest<KvOp>): void {
    const s = this.s;
    if (!this.authentic(req.client, req)) return;
    if (this.answerIfExecuted(req)) return;
    if (s.isPrimary() && !s.inViewChange) {
      this.enqueue(req);
      return;
    }
    this.trackPending(req);
    if (!s.inViewChange) {
      s.send(s.primaryOf(s.view), { t: 'request', req });
      s.reply({
        client: req.client,
        seq: req.seq,
        type: 'redirect',
        leaderHint: s.primaryOf(s.view),
      });
    }
  }

  /** A request a backup relayed: it must carry the client's MAC for this replica too. */
  onRelayedRequest(from: NodeId, req: ClientRequest<KvOp>): void {
    const s = this.s;
    if (!this.authentic(from, req)) return;
    if (s.machine.hasExecuted(req.client, req.seq)) return;
    if (s.isPrimary() && !s.inViewChange) this.enqueue(req);
    else this.trackPending(req);
  }

  /**
   * Whether the client's authenticator holds a valid MAC for this replica: without it a
   * Byzantine replica could make up requests in a client's name. Counted as a detected fault.
   */
  authentic(source: NodeId, req: ClientRequest<KvOp>): boolean {
    const s = this.s;
    if (s.clientAuth.verify(s.ctx.self, req)) return true;
    s.rejectedMacs++;
    s.reject(source, `bad client MAC on request ${req.client}#${req.seq}`);
    return false;
  }

  private answerIfExecuted(req: ClientRequest<KvOp>): boolean {
    const s = this.s;
    if (!s.machine.hasExecuted(req.client, req.seq)) return false;
    const cached = s.machine.cachedReply(req.client, req.seq);
    if (cached !== undefined) {
      s.reply({ client: req.client, seq: req.seq, type: 'ok', output: cached });
    }
    return true;
  }

  trackPending(req: ClientRequest<KvOp>): void {
    const s = this.s;
    const key = requestKey(req);
    if (!s.pending.has(key) && s.pending.size < MAX_PENDING) s.pending.set(key, req);
    if (!s.viewTimerArmed && !s.inViewChange) this.p.timer.arm();
  }

  enqueue(req: ClientRequest<KvOp>): void {
    const s = this.s;
    const key = requestKey(req);
    if (s.queued.has(key)) return; // answered when it executes
    if (s.queue.length >= s.config.queueLimit) {
      s.reply({
        client: req.client,
        seq: req.seq,
        type: 'busy',
        reason: `primary ${s.ctx.self} has ${s.queue.length} requests queued`,
      });
      return;
    }
    // Pending only once queued: a request turned away as busy is the client's to retry, and
    // tracking it anyway let a flood of them grow the map without bound.
    if (s.pending.size < MAX_PENDING) s.pending.set(key, req);
    s.queue.push(req);
    s.queued.add(key);
    this.proposeQueued();
  }

  /** The primary assigns sequence numbers to batches of queued requests, within [h, h+L]. */
  proposeQueued(): void {
    const s = this.s;
    if (!s.isPrimary() || s.inViewChange || s.queue.length === 0) return;
    if (s.byz.acts('stall', `primary ${s.ctx.self} holds ${s.queue.length} requests`)) return;
    // Adaptive batching (params adaptiveBatching): a partial batch goes out only when nothing
    // else is in flight; otherwise requests gather until a batch is full or an execution
    // frees the pipeline (executeCommitted proposes again). Under load batches are then
    // full-sized, and a lone client still gets its request ordered at once.
    const adaptive = s.config.adaptiveBatching;
    while (
      s.queue.length > 0 &&
      s.nextSeq <= s.h + s.config.logWindow &&
      s.nextSeq - s.executed - 1 < s.config.maxInFlight &&
      (!adaptive || s.nextSeq - s.executed - 1 === 0 || s.queue.length >= s.config.maxBatch)
    ) {
      const reqs: ClientRequest<KvOp>[] = [];
      while (reqs.length < s.config.maxBatch && s.queue.length > 0) {
        const req = s.queue.shift() as ClientRequest<KvOp>;
        if (!s.machine.hasExecuted(req.client, req.seq)) reqs.push(req);
      }
      if (reqs.length === 0) continue;
      const seq = s.nextSeq++;
      const cmd: Command = { type: 'batch', reqs };
      const digest = commandDigest(cmd);
      const slot = s.slot(seq);
      slot.view = s.view;
      slot.digest = digest;
      slot.cmd = cmd;
      s.notePrePrepared(slot, s.view, digest);
      s.persistSlot(seq, slot);
      if (!s.byz.equivocate(s.view, seq, cmd, (to, b) => s.send(to, b))) {
        s.broadcast({ t: 'pre-prepare', view: s.view, seq, digest, cmd });
      }
      this.p.normal.checkProgress(seq);
    }
  }
}
