import type { NodeId } from '../../core/ids';
import { commandDigest } from './command-digest';
import type { Command } from './messages';
import type { ReplicaParts } from './replica-parts';
import { requestKey, type ReplicaState, type Slot } from './replica-state';

/** Sequence numbers above the executed prefix whose messages are retransmitted per tick. */
const RETRANSMIT_SLOTS = 4;

/**
 * The normal case (slide 27; paper, section 4.2): PRE-PREPARE → PREPARE → COMMIT.
 * prepared = pre-prepare + 2f matching PREPAREs from distinct backups; committed-local =
 * prepared + 2f+1 matching COMMITs; execution strictly in sequence order.
 */
export class NormalCase {
  constructor(
    private readonly s: ReplicaState,
    private readonly p: ReplicaParts,
  ) {}

  onPrePrepare(from: NodeId, view: number, seq: number, digest: string, cmd: Command): void {
    const s = this.s;
    if (view !== s.view || s.inViewChange || from !== s.primaryOf(view)) return;
    if (!s.inWindow(seq)) {
      return s.reject(
        from,
        `pre-prepare ${seq} outside watermarks (${s.h}, ${s.h + s.config.logWindow}]`,
      );
    }
    if (commandDigest(cmd) !== digest) {
      return s.reject(from, `pre-prepare ${seq} digest does not match its requests`);
    }
    const slot = s.slot(seq);
    if (slot.view === view && slot.digest !== digest) {
      return s.reject(from, `second pre-prepare for (${view}, ${seq}) with a different digest`);
    }
    // A primary cannot order a request the client did not send (paper, section 4.2: a backup
    // accepts a pre-prepare only if the request in it is properly authenticated).
    if (slot.digest !== digest && cmd.type === 'batch') {
      for (const req of cmd.reqs) if (!this.p.requests.authentic(from, req)) return;
    }
    this.acceptPrePrepare(seq, slot, view, digest, cmd);
  }

  acceptPrePrepare(seq: number, slot: Slot, view: number, digest: string, cmd: Command): void {
    const s = this.s;
    if (slot.view < view) {
      // The sequence number is being reused in a later view (not re-issued in NEW-VIEW, or
      // above its max-s). What this replica said in the older view says nothing about this
      // one: left set, the flags would keep it from preparing the new request, and would let
      // retransmit() vote for a request it never prepared.
      slot.sentPrepare = false;
      slot.sentCommit = false;
      if (slot.digest !== digest) slot.committed = false;
    }
    slot.view = view;
    slot.digest = digest;
    slot.cmd = cmd;
    s.notePrePrepared(slot, view, digest);
    if (cmd.type === 'batch') for (const req of cmd.reqs) this.p.requests.trackPending(req);
    if (!s.isPrimary() && !slot.sentPrepare) {
      slot.sentPrepare = true;
      slot.prepares.set(s.ctx.self, { view, digest });
      s.broadcast({ t: 'prepare', view, seq, digest });
    }
    s.persistSlot(seq, slot);
    this.checkProgress(seq);
  }

  onVote(
    kind: 'prepare' | 'commit',
    from: NodeId,
    view: number,
    seq: number,
    digest: string,
  ): void {
    const s = this.s;
    if (seq > s.h + s.config.logWindow) {
      // Above the high watermark (paper, section 4.2): a faulty replica could make this
      // replica hold votes for any number of sequence numbers. Below h it is merely late.
      return s.reject(
        from,
        `${kind.toUpperCase()} ${seq} above the high watermark ${s.h + s.config.logWindow}`,
      );
    }
    if (view !== s.view || seq <= s.h) return;
    if (kind === 'prepare' && from === s.primaryOf(view)) {
      return s.reject(from, `PREPARE from the primary of view ${view}`);
    }
    const slot = s.slot(seq);
    const votes = kind === 'prepare' ? slot.prepares : slot.commits;
    const known = votes.get(from);
    votes.set(from, { view, digest });
    // A liar echoes only news: a retransmitted vote, or another liar's echo of its own echo,
    // changes nothing and gets no answer — otherwise two liars answer each other forever.
    if (known?.view !== view || known.digest !== digest) {
      s.byz.observe(from, { t: kind, view, seq, digest }, (to, b) => s.send(to, b));
    }
    this.checkProgress(seq);
  }

  /** prepared(m, v, n, i) and committed-local(m, v, n, i) of the paper, section 4.2. */
  checkProgress(seq: number): void {
    const s = this.s;
    const slot = s.slots.get(seq);
    if (slot === undefined || slot.cmd === null || slot.view !== s.view) return;
    const prepares = count(slot.prepares, slot.view, slot.digest);
    const isPrepared = prepares.length >= 2 * s.f;
    if (!isPrepared) return;
    if (slot.prepared === null || slot.prepared.view < slot.view) {
      slot.prepared = {
        view: slot.view,
        seq,
        digest: slot.digest,
        cmd: slot.cmd,
        prepares: prepares.sort(),
      };
    }
    if (!slot.sentCommit) {
      slot.sentCommit = true;
      s.persistSlot(seq, slot);
      slot.commits.set(s.ctx.self, { view: slot.view, digest: slot.digest });
      s.broadcast({ t: 'commit', view: slot.view, seq, digest: slot.digest });
    }
    if (!slot.committed && count(slot.commits, slot.view, slot.digest).length >= 2 * s.f + 1) {
      slot.committed = true;
      s.persistSlot(seq, slot);
      s.emitCorrect({
        kind: 'committed',
        slot: seq,
        view: slot.view,
        requests: slot.cmd.type === 'batch' ? slot.cmd.reqs.length : 0,
      });
      this.executeCommitted();
    }
  }

  /** Execute committed sequence numbers strictly in order. */
  executeCommitted(): void {
    const s = this.s;
    let progressed = false;
    for (;;) {
      const seq = s.executed + 1;
      const slot = s.slots.get(seq);
      if (slot === undefined || !slot.committed || slot.cmd === null) break;
      s.executed = seq;
      progressed = true;
      if (slot.cmd.type === 'batch') {
        for (const req of slot.cmd.reqs) {
          const key = requestKey(req);
          s.pending.delete(key);
          s.queued.delete(key);
          const result = s.machine.execute(req);
          if (result.kind === 'stale') continue;
          s.reply({ client: req.client, seq: req.seq, type: 'ok', output: result.output });
        }
      }
      s.machine.advanceChain(slot.digest);
      s.emitCorrect({ kind: 'executed', slot: seq, digest: slot.digest });
      if (seq % s.config.checkpointEvery === 0) this.p.checkpoints.take(seq);
    }
    if (!progressed) return;
    s.viewTimeout_ms = s.config.viewChangeTimeout_ms;
    this.p.timer.rearm();
    this.p.requests.proposeQueued();
  }

  /** Lossy links: resend this replica's part for the sequence numbers it is stuck on. */
  retransmit(): void {
    const s = this.s;
    for (let seq = s.executed + 1; seq <= s.executed + RETRANSMIT_SLOTS; seq++) {
      const slot = s.slots.get(seq);
      if (slot === undefined || slot.view !== s.view || slot.cmd === null) continue;
      const { view, digest, cmd } = slot;
      if (s.isPrimary()) s.broadcast({ t: 'pre-prepare', view, seq, digest, cmd });
      // Only the votes this replica cast for exactly this (view, digest): never a vote
      // inferred from a flag, and never a PREPARE from the primary (backups reject those).
      if (
        !s.isPrimary() &&
        slot.sentPrepare &&
        sameVote(slot.prepares.get(s.ctx.self), view, digest)
      ) {
        s.broadcast({ t: 'prepare', view, seq, digest });
      }
      if (slot.sentCommit && sameVote(slot.commits.get(s.ctx.self), view, digest)) {
        s.broadcast({ t: 'commit', view, seq, digest });
      }
    }
  }
}

function sameVote(
  vote: { view: number; digest: string } | undefined,
  view: number,
  digest: string,
): boolean {
  return vote !== undefined && vote.view === view && vote.digest === digest;
}

function count(
  votes: ReadonlyMap<NodeId, { view: number; digest: string }>,
  view: number,
  digest: string,
): NodeId[] {
  const out: NodeId[] = [];
  for (const [node, v] of votes) if (v.view === view && v.digest === digest) out.push(node);
  return out;
}
