import type { NodeId, TimerName } from '../../core/ids';
import type {
  ClientRequest,
  Context,
  Persisted,
  Protocol,
  ReplicaStatus,
} from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { KvMachine, type KvSnapshot } from '../kv/kv-machine';
import type { PaxosConfig } from './config';
import type { Command, PaxosMessage, SnapshotTransfer } from './messages';
import { StableLog } from './stable-log';
import { AcceptTally } from './accept-tally';
import { mergePrepareOks, type PrepareOk } from './merge-prepare-oks';

/**
 * electing: gave up on the current view; sends New-Leader and joins higher views (slide 19,
 *   "timer T stopped").
 * preinstalled: a majority sent New-Leader for `view`; gives it one full (doubled) timeout and
 *   ignores higher views meanwhile; the leader runs Prepare.
 * installed: the view's leader is proposing; followers accept.
 */
type Phase = 'electing' | 'preinstalled' | 'installed';

const NOOP: Command = { type: 'noop' };
const ELECTION: TimerName = 'election';
const TICK: TimerName = 'tick';
/** While electing, New-Leader is re-sent every this many ticks (message loss). */
const ELECTION_RESEND_TICKS = 3;
/** A leader re-sends a snapshot to the same lagging follower at most this often. */
const SNAPSHOT_RESEND_TICKS = 10;

/**
 * A Multi-Paxos replica as in seed 002 (slides 12–19), with what a real system needs added:
 * - views; the leader of view v is servers[v mod n];
 * - leader election by timeout with New-Leader messages; the timeout doubles on each view a
 *   server preinstalls (C1) and resets when the replica makes progress;
 * - a new leader runs Prepare: it collects accepted proposals from a majority and replays,
 *   per slot, the one with the highest view; gaps become no-ops (slides 13–17);
 * - Proposal → Accept to all → a replica orders (u,s) on a majority of Proposal/Accept (slide 18);
 * - the safety promise (never accept below `promised`) is persisted before any Prepare-OK or
 *   Accept leaves, and so is every accepted value: crash-recovery from stable storage;
 * - at-most-once client requests via the replicated client table (seed 004); batching; a
 *   bounded pipeline; snapshots with log compaction and snapshot transfer to laggards.
 */
export class PaxosReplica implements Protocol<PaxosMessage, KvOp> {
  private readonly n: number;
  private readonly quorum: number;

  private readonly log: StableLog;

  // Volatile state.
  private view = 0;
  private phase: Phase = 'installed';
  private timeout_ms: number;
  private executed = 0;
  private machine = new KvMachine();
  private readonly tally = new AcceptTally();
  private readonly newLeaderVotes = new Set<NodeId>();
  private readonly prepareOks = new Map<NodeId, PrepareOk>();
  private ticks = 0;

  // Leader state.
  private nextSlot = 1;
  private readonly queue: ClientRequest<KvOp>[] = [];
  /** "client:seq" of requests queued or proposed but not yet executed here. */
  private readonly pending = new Set<string>();
  private readonly quorumAcks = new Set<NodeId>();
  private readonly lastSnapshotSentTick = new Map<NodeId, number>();

  constructor(
    private readonly ctx: Context<PaxosMessage, KvOutput>,
    private readonly config: PaxosConfig,
  ) {
    this.n = ctx.servers.length;
    const majority = Math.floor(this.n / 2) + 1;
    this.quorum =
      config.mutations.quorum === 'half' ? Math.max(1, Math.floor(this.n / 2)) : majority;
    this.timeout_ms = config.electionTimeout_ms;
    this.log = new StableLog((key, value) => ctx.persist(key, value));
  }

  // ---------------------------------------------------------------- lifecycle

  init(): void {
    // View 0 has no predecessor, so its leader may propose without a Prepare phase.
    this.view = 0;
    this.phase = 'installed';
    this.ctx.setTimer(TICK, this.config.heartbeat_ms);
    this.armElectionTimer();
    if (this.isLeader()) {
      this.ctx.emit({ kind: 'view-installed', view: 0, leader: this.ctx.self });
      this.ctx.emit({ kind: 'leader-elected', view: 0, leader: this.ctx.self });
    }
  }

  recover(persisted: Persisted): void {
    this.log.load(persisted);
    const snap = this.log.snapshot;
    if (snap !== null) this.installSnapshotState(snap);
    // Electing at the promised view: rejoin the leader we hear from, or join a higher election.
    this.view = this.log.promised;
    this.phase = 'electing';
    this.newLeaderVotes.clear();
    this.newLeaderVotes.add(this.ctx.self);
    this.ctx.emit({ kind: 'recovered', view: this.view, slot: this.executed });
    this.ctx.setTimer(TICK, this.config.heartbeat_ms);
    this.stopElectionTimer();
  }

  inspect(): ReplicaStatus {
    return {
      role: this.phase !== 'installed' ? 'candidate' : this.isLeader() ? 'leader' : 'follower',
      view: this.view,
      executed: this.executed,
      phase: this.phase,
      promised: this.log.promised,
      chain: this.machine.chain,
      leader: this.phase === 'installed' ? this.leaderOf(this.view) : null,
      logSize: this.log.size,
      queued: this.queue.length,
      timeout_ms: this.timeout_ms,
    };
  }

  // ---------------------------------------------------------------- inputs

  onTimer(name: TimerName): void {
    if (name === TICK) {
      this.onTick();
    } else if (name === ELECTION && this.phase !== 'electing') {
      const reason =
        this.phase === 'installed' && this.isLeader()
          ? 'leader lost contact with a majority'
          : this.phase === 'installed'
            ? `no word from leader ${this.leaderOf(this.view)}`
            : `view ${this.view} did not complete`;
      this.shiftToElection(this.view + 1, reason);
    }
  }

  onMessage(from: NodeId, msg: PaxosMessage): void {
    switch (msg.t) {
      case 'new-leader':
        return this.onNewLeader(from, msg.view, msg.answer);
      case 'prepare':
        return this.onPrepare(from, msg.view, msg.fromSlot);
      case 'prepare-ok':
        return this.onPrepareOk(from, msg);
      case 'proposal':
        return this.onProposal(from, msg);
      case 'accept':
        return this.onAccept(from, msg.view, msg.slot);
      case 'heartbeat':
        return this.onHeartbeat(from, msg.view, msg.commit);
      case 'status':
        return this.onStatus(from, msg);
      case 'nack':
        return this.onNack(msg.promised);
      case 'snapshot':
        return this.onSnapshot(from, msg.view, { slot: msg.slot, state: msg.state });
    }
  }

  onClientRequest(req: ClientRequest<KvOp>): void {
    const leading = this.isLeader() && this.phase !== 'electing';
    if (!leading) {
      const hint = this.phase === 'installed' ? this.leaderOf(this.view) : null;
      this.ctx.reply({ client: req.client, seq: req.seq, type: 'redirect', leaderHint: hint });
      return;
    }
    if (this.machine.hasExecuted(req.client, req.seq)) {
      const cached = this.machine.cachedReply(req.client, req.seq);
      if (cached !== undefined) {
        this.ctx.reply({ client: req.client, seq: req.seq, type: 'ok', output: cached });
      }
      return; // older than the client's last request: it has moved on
    }
    const key = requestKey(req);
    if (this.pending.has(key)) return; // answered when it executes
    if (this.queue.length >= this.config.queueLimit) {
      this.ctx.reply({
        client: req.client,
        seq: req.seq,
        type: 'busy',
        reason: `leader ${this.ctx.self} has ${this.queue.length} requests queued`,
      });
      return;
    }
    this.queue.push(req);
    this.pending.add(key);
    this.proposeQueued();
  }

  // ---------------------------------------------------------------- leader election (slide 19)

  /** A1–A2: give up on the current view and ask everyone to move to `view`. */
  private shiftToElection(view: number, reason: string): void {
    this.enterElecting(view, reason);
    this.ctx.broadcast({ t: 'new-leader', view, answer: false });
    this.checkPreinstall();
  }

  /** Electing at `view`: timer T stopped, our own New-Leader vote counted, leader duties off. */
  private enterElecting(view: number, reason: string): void {
    this.view = view;
    this.phase = 'electing';
    this.resetLeaderState();
    this.newLeaderVotes.clear();
    this.newLeaderVotes.add(this.ctx.self);
    this.prepareOks.clear();
    this.ctx.emit({ kind: 'view-change', view, reason });
    this.stopElectionTimer();
  }

  private onNewLeader(from: NodeId, view: number, answer: boolean): void {
    if (view > this.view) {
      // B1: only a server that gave up on its view joins a higher one, so a server that
      // flaps in and out of connectivity cannot drag a working majority into elections.
      // The leader of our preinstalled view gave up on it: it can never complete, so join.
      const leaderLeft = this.phase === 'preinstalled' && from === this.leaderOf(this.view);
      if (this.phase !== 'electing' && !leaderLeft) return;
      this.enterElecting(view, `joined ${from}'s election`);
      this.newLeaderVotes.add(from);
      this.ctx.broadcast({ t: 'new-leader', view, answer: false });
      this.checkPreinstall();
    } else if (view === this.view) {
      if (this.phase === 'electing') {
        this.newLeaderVotes.add(from);
        this.checkPreinstall();
      } else if (this.phase === 'preinstalled' && !answer) {
        // B3: answer with our view. A late arrival (often the view's own leader) needs a
        // majority of New-Leader(v) before it preinstalls and may run Prepare.
        this.ctx.send(from, { t: 'new-leader', view, answer: true });
      }
    } else if (this.phase === 'electing' && !answer) {
      // Help a laggard catch up.
      this.ctx.send(from, { t: 'new-leader', view: this.view, answer: true });
    }
  }

  private checkPreinstall(): void {
    if (this.phase !== 'electing' || this.newLeaderVotes.size < this.quorum) return;
    // C1–C2: give the new view one full, doubled, timeout before moving on.
    this.phase = 'preinstalled';
    this.timeout_ms = Math.min(this.timeout_ms * 2, this.config.electionTimeoutMax_ms);
    this.armElectionTimer();
    if (this.isLeader()) this.startPrepare();
  }

  // ---------------------------------------------------------------- view change: Prepare

  private startPrepare(): void {
    this.promise(this.view);
    this.prepareOks.clear();
    this.prepareOks.set(this.ctx.self, this.prepareOkFor(this.view, this.executed + 1));
    this.ctx.broadcast({ t: 'prepare', view: this.view, fromSlot: this.executed + 1 });
    this.checkPrepareQuorum();
  }

  private onPrepare(from: NodeId, view: number, fromSlot: number): void {
    if (from !== this.leaderOf(view)) return;
    if (view < this.log.promised) {
      this.ctx.send(from, { t: 'nack', view, promised: this.log.promised });
      return;
    }
    if (view < this.view && this.phase !== 'electing') return;
    if (view !== this.view || this.phase === 'electing') {
      this.view = view;
      this.phase = 'preinstalled';
      this.resetLeaderState();
      this.armElectionTimer();
    }
    this.promise(view);
    this.ctx.send(from, this.prepareOkFor(view, fromSlot));
  }

  private prepareOkFor(view: number, fromSlot: number): PrepareOk {
    const snap = this.log.snapshot;
    const snapshot = snap !== null && snap.slot >= fromSlot ? snap : null;
    return { t: 'prepare-ok', view, entries: this.log.from(fromSlot), snapshot };
  }

  private onPrepareOk(from: NodeId, msg: PrepareOk): void {
    if (msg.view !== this.view || this.phase !== 'preinstalled' || !this.isLeader()) return;
    this.prepareOks.set(from, msg);
    this.checkPrepareQuorum();
  }

  private checkPrepareQuorum(): void {
    if (this.prepareOks.size >= this.quorum) this.installAsLeader();
  }

  /**
   * Slides 13–17: whatever may have been ordered was accepted by at least one server of any
   * majority; per slot, replay the proposal with the greatest view; fill gaps with no-ops.
   */
  private installAsLeader(): void {
    const replies = this.config.mutations.skipReplay
      ? [this.prepareOkFor(this.view, this.executed + 1)]
      : Array.from(this.prepareOks.values());
    // Adopt the newest snapshot first: merged entries at or below it are then executed already.
    const before = this.executed;
    const first = mergePrepareOks(replies, before);
    if (first.snapshot !== null && first.snapshot.slot > before) this.adoptSnapshot(first.snapshot);
    const merged = this.executed === before ? first : mergePrepareOks(replies, this.executed);
    // The broken leader starts right after what it executed itself, reusing slots that may
    // already be ordered elsewhere.
    const chosen = this.config.mutations.skipReplay ? new Map<number, Command>() : merged.chosen;
    const maxSlot = this.config.mutations.skipReplay ? this.executed : merged.maxSlot;

    this.phase = 'installed';
    this.prepareOks.clear();
    this.newLeaderVotes.clear();
    // Keep the requests queued while preparing; forget per-follower bookkeeping.
    this.quorumAcks.clear();
    this.lastSnapshotSentTick.clear();
    this.ctx.emit({ kind: 'view-installed', view: this.view, leader: this.ctx.self });
    this.ctx.emit({ kind: 'leader-elected', view: this.view, leader: this.ctx.self });
    for (let slot = this.executed + 1; slot <= maxSlot; slot++) {
      const cmd = chosen.get(slot) ?? NOOP;
      if (cmd.type === 'batch') for (const req of cmd.reqs) this.pending.add(requestKey(req));
      this.acceptLocally(slot, cmd);
      this.ctx.broadcast({ t: 'proposal', view: this.view, slot, cmd, commit: this.executed });
    }
    this.nextSlot = maxSlot + 1;
    this.armElectionTimer();
    this.tryCommitRange(this.executed + 1, maxSlot);
    this.proposeQueued();
  }

  // ---------------------------------------------------------------- normal case (slide 18)

  private proposeQueued(): void {
    if (!this.isLeader() || this.phase !== 'installed') return;
    while (this.queue.length > 0 && this.nextSlot - 1 - this.executed < this.config.maxInFlight) {
      const reqs = this.queue.splice(0, this.config.maxBatch);
      const slot = this.nextSlot++;
      const cmd: Command = { type: 'batch', reqs };
      this.acceptLocally(slot, cmd);
      this.ctx.broadcast({ t: 'proposal', view: this.view, slot, cmd, commit: this.executed });
      this.tryCommit(slot);
    }
  }

  private onProposal(from: NodeId, msg: Extract<PaxosMessage, { t: 'proposal' }>): void {
    if (!this.followLeaderMessage(from, msg.view)) return;
    const { slot, cmd } = msg;
    if (slot <= this.executed) {
      // Already ordered here, so the leader's value is the ordered one: vote for it again.
      this.ctx.broadcast({ t: 'accept', view: msg.view, slot });
    } else if (slot <= this.executed + this.config.maxLogAhead) {
      const existing = this.log.get(slot);
      if (existing === undefined || existing.view !== msg.view) this.acceptLocally(slot, cmd);
      this.tally.vote(slot, msg.view, from);
      this.ctx.broadcast({ t: 'accept', view: msg.view, slot });
      this.tryCommit(slot);
    }
    this.applyCommitIndex(msg.commit);
  }

  private onAccept(from: NodeId, view: number, slot: number): void {
    if (slot <= this.executed || slot > this.executed + this.config.maxLogAhead) return;
    if (!this.tally.vote(slot, view, from)) return; // a vote for an older view's value
    // The proposal counts as its leader's Accept (slide 18: "Proposal/Accept").
    this.tally.vote(slot, view, this.leaderOf(view));
    if (this.log.get(slot)?.view === view) this.tally.vote(slot, view, this.ctx.self);
    this.tryCommit(slot);
  }

  private onHeartbeat(from: NodeId, view: number, commit: number): void {
    if (!this.followLeaderMessage(from, view)) return;
    this.applyCommitIndex(commit);
    this.ctx.send(from, {
      t: 'status',
      view: this.view,
      accepted: this.acceptedPrefix(),
      executed: this.executed,
    });
  }

  /**
   * Common entry of Proposal and Heartbeat: decide whether `from` is the leader to follow.
   * Accepting in view v promises v (classic Paxos phase 2), so the promise is raised first.
   */
  private followLeaderMessage(from: NodeId, view: number): boolean {
    if (from !== this.leaderOf(view)) return false;
    if (view < this.log.promised) {
      this.ctx.send(from, { t: 'nack', view, promised: this.log.promised });
      return false;
    }
    const adopt =
      view > this.view ||
      (view === this.view && this.phase !== 'installed') ||
      (view < this.view && this.phase === 'electing'); // rejoin a working view
    if (adopt) {
      this.view = view;
      this.phase = 'installed';
      this.newLeaderVotes.clear();
      this.prepareOks.clear();
      this.resetLeaderState();
      this.ctx.emit({ kind: 'view-installed', view, leader: from });
    } else if (view !== this.view) {
      return false;
    }
    this.promise(view);
    this.armElectionTimer(); // heard from the leader
    return true;
  }

  private onStatus(from: NodeId, msg: Extract<PaxosMessage, { t: 'status' }>): void {
    if (!this.isLeader() || this.phase !== 'installed' || msg.view !== this.view) return;
    this.quorumAcks.add(from);
    if (this.quorumAcks.size + 1 >= this.quorum) {
      this.quorumAcks.clear();
      this.armElectionTimer(); // check-quorum: a majority still hears us
    }
    // The follower holds every slot up to `accepted` in this view: count those as its votes,
    // which recovers from lost Accept messages.
    for (let slot = this.executed + 1; slot <= msg.accepted; slot++) {
      const e = this.log.get(slot);
      if (e !== undefined && e.view === this.view) this.tally.vote(slot, this.view, from);
    }
    this.tryCommitRange(this.executed + 1, msg.accepted);
    this.catchUp(from, Math.max(msg.accepted, msg.executed));
  }

  /** Re-send what a lagging follower misses: proposals, or a snapshot if they were compacted. */
  private catchUp(follower: NodeId, has: number): void {
    const snap = this.log.snapshot;
    if (snap !== null && has < snap.slot) {
      const last = this.lastSnapshotSentTick.get(follower);
      if (last === undefined || this.ticks - last >= SNAPSHOT_RESEND_TICKS) {
        this.lastSnapshotSentTick.set(follower, this.ticks);
        this.ctx.send(follower, { t: 'snapshot', view: this.view, ...snap });
      }
      return;
    }
    const last = Math.min(this.nextSlot - 1, has + this.config.maxResend);
    for (let slot = has + 1; slot <= last; slot++) {
      const e = this.log.get(slot);
      if (e === undefined) continue;
      this.ctx.send(follower, {
        t: 'proposal',
        view: this.view,
        slot,
        cmd: e.cmd,
        commit: this.executed,
      });
    }
  }

  private onNack(promised: number): void {
    // Someone promised a higher view: ours is over. Wait there to follow its leader.
    if (promised <= this.view) return;
    this.enterElecting(promised, 'a server promised a higher view');
  }

  private onSnapshot(from: NodeId, view: number, snap: SnapshotTransfer): void {
    if (!this.followLeaderMessage(from, view)) return;
    if (snap.slot <= this.executed) return;
    this.adoptSnapshot(snap);
  }

  // ---------------------------------------------------------------- ordering and execution

  private acceptLocally(slot: number, cmd: Command): void {
    this.log.accept(slot, this.view, cmd);
    this.tally.vote(slot, this.view, this.ctx.self);
  }

  private tryCommit(slot: number): void {
    const e = this.log.get(slot);
    if (e === undefined || e.committed) return;
    if (this.tally.count(slot, e.view) < this.quorum) return;
    e.committed = true;
    if (slot === this.executed + 1) this.executeReady();
  }

  private tryCommitRange(from: number, to: number): void {
    for (let slot = from; slot <= to; slot++) this.tryCommit(slot);
    this.executeReady();
  }

  /** The leader executed everything up to `commit`; entries we hold from its view are ordered. */
  private applyCommitIndex(commit: number): void {
    const upTo = Math.min(commit, this.executed + this.config.maxLogAhead);
    for (let slot = this.executed + 1; slot <= upTo; slot++) {
      const e = this.log.get(slot);
      if (e !== undefined && e.view === this.view) e.committed = true;
    }
    this.executeReady();
  }

  private executeReady(): void {
    const leading = this.isLeader() && this.phase === 'installed';
    let progressed = false;
    for (;;) {
      const slot = this.executed + 1;
      const e = this.log.get(slot);
      if (e === undefined || !e.committed) break;
      this.executed = slot;
      progressed = true;
      let requests = 0;
      if (e.cmd.type === 'batch') {
        for (const req of e.cmd.reqs) {
          const result = this.machine.execute(req);
          this.pending.delete(requestKey(req));
          requests++;
          if (leading && result.kind !== 'stale') {
            this.ctx.reply({ client: req.client, seq: req.seq, type: 'ok', output: result.output });
          }
        }
      }
      this.machine.advanceChain(e.digest);
      this.tally.forget(slot);
      this.ctx.emit({ kind: 'executed', slot, digest: e.digest });
      if (leading) this.ctx.emit({ kind: 'committed', slot, view: e.view, requests });
      if (slot % this.config.snapshotEvery === 0) this.takeSnapshot();
    }
    if (progressed) {
      if (this.phase === 'installed') this.timeout_ms = this.config.electionTimeout_ms;
      this.proposeQueued();
    }
  }

  // ---------------------------------------------------------------- snapshots

  private takeSnapshot(): void {
    this.log.saveSnapshot({ slot: this.executed, state: this.machine.snapshot() });
    this.ctx.emit({ kind: 'snapshot-taken', slot: this.executed });
  }

  /** Jump to a snapshot received from another replica: its slots are all ordered. */
  private adoptSnapshot(snap: SnapshotTransfer): void {
    this.log.saveSnapshot(snap);
    this.tally.forgetUpTo(snap.slot);
    this.installSnapshotState(snap);
    this.ctx.emit({
      kind: 'snapshot-installed',
      slot: snap.slot,
      digest: String(snap.state.chain),
    });
    this.executeReady();
  }

  private installSnapshotState(snap: SnapshotTransfer): void {
    this.machine = new KvMachine();
    this.machine.restore(snap.state as KvSnapshot);
    this.executed = snap.slot;
    if (this.nextSlot <= snap.slot) this.nextSlot = snap.slot + 1;
  }

  // ---------------------------------------------------------------- helpers

  private onTick(): void {
    this.ticks++;
    this.ctx.setTimer(TICK, this.config.heartbeat_ms);
    if (this.phase === 'installed' && this.isLeader()) {
      this.ctx.broadcast({ t: 'heartbeat', view: this.view, commit: this.executed });
      if (this.quorum <= 1) this.armElectionTimer(); // alone, it is its own majority
      this.proposeQueued();
    } else if (this.phase === 'preinstalled' && this.isLeader()) {
      this.ctx.broadcast({ t: 'prepare', view: this.view, fromSlot: this.executed + 1 });
    } else if (this.phase === 'electing' && this.ticks % ELECTION_RESEND_TICKS === 0) {
      this.ctx.broadcast({ t: 'new-leader', view: this.view, answer: false });
    }
  }

  /** Raise the promise and make it durable before anything that relies on it is sent. */
  private promise(view: number): void {
    this.log.promise(view);
  }

  /** Highest slot s such that every slot up to s is executed or accepted in the current view. */
  private acceptedPrefix(): number {
    let slot = this.executed;
    for (;;) {
      const e = this.log.get(slot + 1);
      if (e === undefined || e.view !== this.view) return slot;
      slot++;
    }
  }

  /**
   * Slide 19 B1: while electing, timer T is stopped. The server waits at its view, re-sending
   * New-Leader, and joins any higher view it hears of; it never races ahead on its own, so
   * servers converge on one view instead of leapfrogging each other's elections.
   */
  private stopElectionTimer(): void {
    this.ctx.cancelTimer(ELECTION);
  }

  private armElectionTimer(): void {
    // A little jitter keeps servers from timing out in lockstep and splitting the vote.
    const jitter = this.ctx.randomInt(Math.max(1, Math.floor(this.timeout_ms / 4)));
    this.ctx.setTimer(ELECTION, this.timeout_ms + jitter);
  }

  private resetLeaderState(): void {
    this.queue.length = 0;
    this.pending.clear();
    this.quorumAcks.clear();
    this.lastSnapshotSentTick.clear();
    this.nextSlot = Math.max(this.nextSlot, this.executed + 1);
  }

  private isLeader(): boolean {
    return this.leaderOf(this.view) === this.ctx.self;
  }

  private leaderOf(view: number): NodeId {
    return this.ctx.servers[view % this.n] as NodeId;
  }
}

function requestKey(req: ClientRequest<KvOp>): string {
  return `${req.client}:${req.seq}`;
}
