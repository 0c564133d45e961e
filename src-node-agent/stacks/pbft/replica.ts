import { digestOf } from '../../core/hash';
import type { ProtocolEvent } from '../../core/events';
import type { NodeId, TimerName } from '../../core/ids';
import type {
  ClientReply,
  ClientRequest,
  Context,
  Persisted,
  Protocol,
  ReplicaStatus,
} from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { KvMachine, type KvSnapshot } from '../kv/kv-machine';
import { Authenticator } from './authenticator';
import { ByzantineDriver } from './byzantine';
import { commandDigest } from './command-digest';
import type { PbftConfig } from './config';
import {
  MAX_VIEW_AHEAD,
  type Command,
  type PbftBody,
  type PbftMessage,
  type PrePrepareEntry,
  type PreparedProof,
  type ViewChangeBody,
} from './messages';
import { computeNewView, sameNewView, viewChangeProblem } from './new-view';

/** Per sequence number: the accepted pre-prepare, the votes, and the prepare certificate. */
interface Slot {
  /** View of the accepted pre-prepare; -1 = none. */
  view: number;
  digest: string;
  cmd: Command | null;
  /** Latest PREPARE / COMMIT per sender, with the view it was for. */
  readonly prepares: Map<NodeId, { view: number; digest: string }>;
  readonly commits: Map<NodeId, { view: number; digest: string }>;
  sentPrepare: boolean;
  sentCommit: boolean;
  /** Highest-view prepare certificate this replica collected (it survives view changes). */
  prepared: PreparedProof | null;
  committed: boolean;
}

interface PersistedSlot {
  readonly view: number;
  readonly digest: string;
  readonly cmd: Command | null;
  readonly sentPrepare: boolean;
  readonly sentCommit: boolean;
  readonly prepared: PreparedProof | null;
  readonly committed: boolean;
}

interface PersistedStable {
  readonly seq: number;
  readonly digest: string;
  readonly proof: readonly NodeId[];
  readonly state: KvSnapshot;
}

const TICK: TimerName = 'tick';
/** A backup's timer on a pending request, and the timer on an unfinished view change. */
const VIEW_TIMER: TimerName = 'view-change';
/** Checkpoint vote sets kept for unstable checkpoints; the oldest are forgotten first. */
const MAX_CHECKPOINT_SETS = 16;
/** Sequence numbers above the executed prefix whose messages are retransmitted per tick. */
const RETRANSMIT_SLOTS = 4;
/** Requests a backup holds for the view-change timer; beyond it new ones are not tracked. */
const MAX_PENDING = 100_000;

/**
 * A PBFT replica (Castro and Liskov '99; seed 002 slides 21–29), sans-IO:
 * - n = 3f+1; the primary of view v is servers[v mod n];
 * - normal case PRE-PREPARE → PREPARE → COMMIT; prepared = pre-prepare + 2f matching PREPAREs
 *   from distinct backups; committed-local = prepared + 2f+1 matching COMMITs; execution in
 *   sequence order;
 * - every inter-replica message carries a MAC authenticator; a bad MAC is dropped and counted;
 * - checkpoints every K sequence numbers, stable on 2f+1 matching, which move the low
 *   watermark h and garbage-collect the log; state transfer for a replica left behind;
 * - view change on a pending request's timeout; NEW-VIEW is recomputed and checked by every
 *   backup; timeouts double on consecutive view changes;
 * - optional Byzantine behaviour for this replica (config.byzantine), see byzantine.ts.
 */
export class PbftReplica implements Protocol<PbftMessage, KvOp> {
  private readonly n: number;
  private readonly f: number;
  private readonly auth: Authenticator;
  private readonly byz: ByzantineDriver;

  private view = 0;
  /** Waiting for NEW-VIEW of `view`. */
  private inViewChange = false;
  private viewTimeout_ms: number;
  private viewTimerArmed = false;

  private executed = 0;
  private machine = new KvMachine();
  private readonly slots = new Map<number, Slot>();

  /** Low watermark h = last stable checkpoint. */
  private h = 0;
  private stableDigest: string;
  private stableProof: readonly NodeId[] = [];
  private readonly checkpointVotes = new Map<number, Map<NodeId, string>>();
  /** This replica's own checkpoints at and above h: digest and state, for state transfer. */
  private readonly ownCheckpoints = new Map<number, { digest: string; state: KvSnapshot }>();

  private readonly viewChanges = new Map<number, Map<NodeId, ViewChangeBody>>();
  private ownViewChange: ViewChangeBody | null = null;
  private lastNewView: PbftBody | null = null;

  // Primary state.
  private nextSeq = 1;
  private readonly queue: ClientRequest<KvOp>[] = [];
  private readonly queued = new Set<string>();
  /** Requests this replica knows of and has not executed: the view-change timer runs on them. */
  private readonly pending = new Map<string, ClientRequest<KvOp>>();

  private ticksExecuted = -1;
  /** A checkpoint above our execution that f+1 replicas vouch for: where to catch up to. */
  private catchUp: { seq: number; digest: string; from: readonly NodeId[] } | null = null;
  rejectedMacs = 0;

  constructor(
    private readonly ctx: Context<PbftMessage, KvOutput>,
    private readonly config: PbftConfig,
  ) {
    this.n = ctx.servers.length;
    this.f = Math.floor((this.n - 1) / 3);
    this.viewTimeout_ms = config.viewChangeTimeout_ms;
    this.auth = new Authenticator(ctx.self, ctx.servers, config.secret);
    this.byz = new ByzantineDriver(ctx, config.byzantine[ctx.self] ?? null);
    this.stableDigest = digestOf(this.machine.snapshot());
  }

  // ---------------------------------------------------------------- lifecycle

  init(): void {
    this.ctx.setTimer(TICK, this.config.tick_ms);
    if (this.isPrimary()) this.ctx.emit({ kind: 'view-installed', view: 0, leader: this.ctx.self });
  }

  /**
   * Restart from stable storage: the last stable checkpoint with its state, the view, and per
   * sequence number what this replica accepted and sent — so it never contradicts a PREPARE
   * or COMMIT it sent before the crash. Committed requests above the checkpoint are executed
   * again from it (the `recovered` event tells the agreement checker so).
   */
  recover(persisted: Persisted): void {
    const stable = persisted.get('stable') as PersistedStable | undefined;
    if (stable !== undefined) {
      this.machine.restore(stable.state);
      this.executed = stable.seq;
      this.h = stable.seq;
      this.stableDigest = stable.digest;
      this.stableProof = stable.proof;
      this.ownCheckpoints.set(stable.seq, { digest: stable.digest, state: stable.state });
    }
    const view = persisted.get('view') as { view: number; inViewChange: boolean } | undefined;
    let maxSeq = this.h;
    for (const [key, value] of persisted) {
      if (!key.startsWith('slot:')) continue;
      const seq = Number(key.slice(5));
      const p = value as PersistedSlot;
      if (seq <= this.h) continue;
      const slot = this.slot(seq);
      Object.assign(slot, { ...p, prepares: slot.prepares, commits: slot.commits });
      if (p.sentPrepare) slot.prepares.set(this.ctx.self, { view: p.view, digest: p.digest });
      if (p.sentCommit) slot.commits.set(this.ctx.self, { view: p.view, digest: p.digest });
      maxSeq = Math.max(maxSeq, seq);
    }
    this.nextSeq = maxSeq + 1;
    this.view = view?.view ?? 0;
    this.ctx.emit({ kind: 'recovered', view: this.view, slot: this.executed });
    this.ctx.setTimer(TICK, this.config.tick_ms);
    this.executeCommitted();
    if (view?.inViewChange === true)
      this.startViewChange(this.view, 'recovered during a view change');
  }

  private persistSlot(seq: number, slot: Slot): void {
    const value: PersistedSlot = {
      view: slot.view,
      digest: slot.digest,
      cmd: slot.cmd,
      sentPrepare: slot.sentPrepare,
      sentCommit: slot.sentCommit,
      prepared: slot.prepared,
      committed: slot.committed,
    };
    this.ctx.persist(`slot:${seq}`, value);
  }

  private persistView(): void {
    this.ctx.persist('view', { view: this.view, inViewChange: this.inViewChange });
  }

  inspect(): ReplicaStatus {
    return {
      role: this.isPrimary() ? 'primary' : 'backup',
      view: this.view,
      executed: this.executed,
      chain: this.machine.chain,
      byzantine: this.byz.behaviour,
      inViewChange: this.inViewChange,
      lowWatermark: this.h,
      logSize: this.slots.size,
      queued: this.queue.length,
      pending: this.pending.size,
      rejectedMacs: this.rejectedMacs,
      viewTimeout_ms: this.viewTimeout_ms,
    };
  }

  // ---------------------------------------------------------------- inputs

  onTimer(name: TimerName): void {
    if (name === TICK) {
      this.ctx.setTimer(TICK, this.config.tick_ms);
      this.onTick();
    } else if (name === VIEW_TIMER) {
      this.viewTimerArmed = false;
      if (this.inViewChange)
        this.startViewChange(this.view + 1, `no NEW-VIEW for view ${this.view}`);
      else if (this.pending.size > 0) {
        this.startViewChange(this.view + 1, `a request did not execute in view ${this.view}`);
      }
    }
  }

  onClientRequest(req: ClientRequest<KvOp>): void {
    if (this.answerIfExecuted(req)) return;
    if (this.isPrimary() && !this.inViewChange) {
      this.enqueue(req);
      return;
    }
    this.trackPending(req);
    if (!this.inViewChange) {
      this.send(this.primaryOf(this.view), { t: 'request', req });
      this.reply({
        client: req.client,
        seq: req.seq,
        type: 'redirect',
        leaderHint: this.primaryOf(this.view),
      });
    }
  }

  onMessage(from: NodeId, msg: PbftMessage): void {
    if (!this.ctx.servers.includes(from) || from === this.ctx.self) {
      return this.reject(from, 'message from a node that is not a peer replica');
    }
    const { auth, ...body } = msg;
    if (!this.auth.verify(from, body, auth)) {
      this.rejectedMacs++;
      return this.reject(from, `bad MAC on ${body.t}`);
    }
    if ('view' in body && body.view > this.view + MAX_VIEW_AHEAD) {
      return this.reject(
        from,
        `view ${body.view} is more than ${MAX_VIEW_AHEAD} ahead of ${this.view}`,
      );
    }
    this.byz.observe(from, body, (to, b) => this.send(to, b));
    switch (body.t) {
      case 'request':
        return this.onRelayedRequest(body.req);
      case 'pre-prepare':
        return this.onPrePrepare(from, body.view, body.seq, body.digest, body.cmd);
      case 'prepare':
        return this.onVote('prepare', from, body.view, body.seq, body.digest);
      case 'commit':
        return this.onVote('commit', from, body.view, body.seq, body.digest);
      case 'checkpoint':
        return this.onCheckpoint(from, body.seq, body.digest);
      case 'view-change': {
        const { t: _t, ...vc } = body;
        return this.onViewChange(from, vc);
      }
      case 'new-view':
        return this.onNewView(from, body.view, body.viewChanges, body.prePrepares);
      case 'fetch-state':
        return this.onFetchState(from, body.seq);
      case 'state':
        return this.onState(body.seq, body.state);
    }
  }

  // ---------------------------------------------------------------- requests

  private answerIfExecuted(req: ClientRequest<KvOp>): boolean {
    if (!this.machine.hasExecuted(req.client, req.seq)) return false;
    const cached = this.machine.cachedReply(req.client, req.seq);
    if (cached !== undefined) {
      this.reply({ client: req.client, seq: req.seq, type: 'ok', output: cached });
    }
    return true;
  }

  private onRelayedRequest(req: ClientRequest<KvOp>): void {
    if (this.machine.hasExecuted(req.client, req.seq)) return;
    if (this.isPrimary() && !this.inViewChange) this.enqueue(req);
    else this.trackPending(req);
  }

  private trackPending(req: ClientRequest<KvOp>): void {
    const key = requestKey(req);
    if (!this.pending.has(key) && this.pending.size < MAX_PENDING) this.pending.set(key, req);
    if (!this.viewTimerArmed && !this.inViewChange) this.armViewTimer();
  }

  private enqueue(req: ClientRequest<KvOp>): void {
    const key = requestKey(req);
    this.pending.set(key, req);
    if (this.queued.has(key)) return; // answered when it executes
    if (this.queue.length >= this.config.queueLimit) {
      this.reply({
        client: req.client,
        seq: req.seq,
        type: 'busy',
        reason: `primary ${this.ctx.self} has ${this.queue.length} requests queued`,
      });
      return;
    }
    this.queue.push(req);
    this.queued.add(key);
    this.proposeQueued();
  }

  /** The primary assigns sequence numbers to batches of queued requests, within [h, h+L]. */
  private proposeQueued(): void {
    if (!this.isPrimary() || this.inViewChange || this.queue.length === 0) return;
    if (this.byz.acts('stall', `primary ${this.ctx.self} holds ${this.queue.length} requests`)) {
      return;
    }
    while (
      this.queue.length > 0 &&
      this.nextSeq <= this.h + this.config.logWindow &&
      this.nextSeq - this.executed - 1 < this.config.maxInFlight
    ) {
      const reqs: ClientRequest<KvOp>[] = [];
      while (reqs.length < this.config.maxBatch && this.queue.length > 0) {
        const req = this.queue.shift() as ClientRequest<KvOp>;
        if (!this.machine.hasExecuted(req.client, req.seq)) reqs.push(req);
      }
      if (reqs.length === 0) continue;
      const seq = this.nextSeq++;
      const cmd: Command = { type: 'batch', reqs };
      const digest = commandDigest(cmd);
      const slot = this.slot(seq);
      slot.view = this.view;
      slot.digest = digest;
      slot.cmd = cmd;
      this.persistSlot(seq, slot);
      if (!this.byz.equivocate(this.view, seq, cmd, (to, b) => this.send(to, b))) {
        this.broadcast({ t: 'pre-prepare', view: this.view, seq, digest, cmd });
      }
      this.checkProgress(seq);
    }
  }

  // ---------------------------------------------------------------- normal case

  private inWindow(seq: number): boolean {
    return seq > this.h && seq <= this.h + this.config.logWindow;
  }

  private onPrePrepare(
    from: NodeId,
    view: number,
    seq: number,
    digest: string,
    cmd: Command,
  ): void {
    if (view !== this.view || this.inViewChange || from !== this.primaryOf(view)) return;
    if (!this.inWindow(seq)) {
      return this.reject(
        from,
        `pre-prepare ${seq} outside watermarks (${this.h}, ${this.h + this.config.logWindow}]`,
      );
    }
    if (commandDigest(cmd) !== digest) {
      return this.reject(from, `pre-prepare ${seq} digest does not match its requests`);
    }
    const slot = this.slot(seq);
    if (slot.view === view && slot.digest !== digest) {
      return this.reject(from, `second pre-prepare for (${view}, ${seq}) with a different digest`);
    }
    this.acceptPrePrepare(seq, slot, view, digest, cmd);
  }

  private acceptPrePrepare(
    seq: number,
    slot: Slot,
    view: number,
    digest: string,
    cmd: Command,
  ): void {
    slot.view = view;
    slot.digest = digest;
    slot.cmd = cmd;
    if (cmd.type === 'batch') for (const req of cmd.reqs) this.trackPending(req);
    if (!this.isPrimary() && !slot.sentPrepare) {
      slot.sentPrepare = true;
      slot.prepares.set(this.ctx.self, { view, digest });
      this.broadcast({ t: 'prepare', view, seq, digest });
    }
    this.persistSlot(seq, slot);
    this.checkProgress(seq);
  }

  private onVote(
    kind: 'prepare' | 'commit',
    from: NodeId,
    view: number,
    seq: number,
    digest: string,
  ): void {
    if (view !== this.view || !this.inWindow(seq)) return;
    if (kind === 'prepare' && from === this.primaryOf(view)) {
      return this.reject(from, `PREPARE from the primary of view ${view}`);
    }
    const slot = this.slot(seq);
    (kind === 'prepare' ? slot.prepares : slot.commits).set(from, { view, digest });
    this.checkProgress(seq);
  }

  private count(
    votes: ReadonlyMap<NodeId, { view: number; digest: string }>,
    view: number,
    digest: string,
  ): NodeId[] {
    const out: NodeId[] = [];
    for (const [node, v] of votes) if (v.view === view && v.digest === digest) out.push(node);
    return out;
  }

  /** prepared(m, v, n, i) and committed-local(m, v, n, i) of the paper, section 4.2. */
  private checkProgress(seq: number): void {
    const slot = this.slots.get(seq);
    if (slot === undefined || slot.cmd === null || slot.view !== this.view) return;
    const prepares = this.count(slot.prepares, slot.view, slot.digest);
    const isPrepared = prepares.length >= 2 * this.f;
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
      this.persistSlot(seq, slot);
      slot.commits.set(this.ctx.self, { view: slot.view, digest: slot.digest });
      this.broadcast({ t: 'commit', view: slot.view, seq, digest: slot.digest });
    }
    if (
      !slot.committed &&
      this.count(slot.commits, slot.view, slot.digest).length >= 2 * this.f + 1
    ) {
      slot.committed = true;
      this.persistSlot(seq, slot);
      this.emitCorrect({
        kind: 'committed',
        slot: seq,
        view: slot.view,
        requests: slot.cmd.type === 'batch' ? slot.cmd.reqs.length : 0,
      });
      this.executeCommitted();
    }
  }

  /** Execute committed sequence numbers strictly in order. */
  private executeCommitted(): void {
    let progressed = false;
    for (;;) {
      const seq = this.executed + 1;
      const slot = this.slots.get(seq);
      if (slot === undefined || !slot.committed || slot.cmd === null) break;
      this.executed = seq;
      progressed = true;
      if (slot.cmd.type === 'batch') {
        for (const req of slot.cmd.reqs) {
          const key = requestKey(req);
          this.pending.delete(key);
          this.queued.delete(key);
          const result = this.machine.execute(req);
          if (result.kind === 'stale') continue;
          this.reply({ client: req.client, seq: req.seq, type: 'ok', output: result.output });
        }
      }
      this.machine.advanceChain(slot.digest);
      this.emitCorrect({ kind: 'executed', slot: seq, digest: slot.digest });
      if (seq % this.config.checkpointEvery === 0) this.takeCheckpoint(seq);
    }
    if (!progressed) return;
    this.viewTimeout_ms = this.config.viewChangeTimeout_ms;
    this.rearmViewTimer();
    this.proposeQueued();
  }

  // ---------------------------------------------------------------- checkpoints

  private takeCheckpoint(seq: number): void {
    const state = this.machine.snapshot();
    const digest = digestOf(state);
    this.ownCheckpoints.set(seq, { digest, state });
    this.recordCheckpoint(this.ctx.self, seq, digest);
    this.broadcast({ t: 'checkpoint', seq, digest });
  }

  private onCheckpoint(from: NodeId, seq: number, digest: string): void {
    if (seq <= this.h) return;
    this.recordCheckpoint(from, seq, digest);
  }

  private recordCheckpoint(from: NodeId, seq: number, digest: string): void {
    let votes = this.checkpointVotes.get(seq);
    if (votes === undefined) {
      votes = new Map();
      this.checkpointVotes.set(seq, votes);
      if (this.checkpointVotes.size > MAX_CHECKPOINT_SETS) {
        this.checkpointVotes.delete(Math.min(...this.checkpointVotes.keys()));
      }
    }
    votes.set(from, digest);
    const matching = Array.from(votes)
      .filter(([, d]) => d === digest)
      .map(([node]) => node);
    if (matching.length >= 2 * this.f + 1) this.makeStable(seq, digest, matching.sort());
    else if (
      matching.length >= this.f + 1 &&
      seq > this.executed &&
      (this.catchUp === null || seq > this.catchUp.seq)
    ) {
      // f+1 matching CHECKPOINTs: at least one correct replica executed up to seq with this
      // state. If this replica stops making progress, it fetches that state (paper, 5.3).
      this.catchUp = { seq, digest, from: matching.filter((n) => n !== this.ctx.self) };
    }
  }

  /** A checkpoint with 2f+1 matching votes is stable: move h, garbage-collect below it. */
  private makeStable(seq: number, digest: string, proof: readonly NodeId[]): void {
    if (seq <= this.h) return;
    this.h = seq;
    this.stableDigest = digest;
    this.stableProof = proof;
    for (const s of Array.from(this.slots.keys())) {
      if (s > seq) continue;
      this.slots.delete(s);
      this.ctx.persist(`slot:${s}`, undefined);
    }
    const own = this.ownCheckpoints.get(seq);
    if (own !== undefined) this.persistStable(seq, own.state);
    for (const s of this.checkpointVotes.keys()) if (s <= seq) this.checkpointVotes.delete(s);
    for (const s of this.ownCheckpoints.keys()) if (s < seq) this.ownCheckpoints.delete(s);
    if (this.nextSeq <= seq) this.nextSeq = seq + 1;
    if (this.executed < seq) this.fetchState();
    this.proposeQueued();
  }

  /** Called when no progress was made for a tick: fetch the state f+1 replicas vouch for. */
  private fetchCatchUpState(): void {
    const target = this.catchUp;
    if (target === null) return;
    if (target.seq <= this.executed) {
      this.catchUp = null;
      return;
    }
    for (const node of target.from) this.send(node, { t: 'fetch-state', seq: target.seq });
  }

  private persistStable(seq: number, state: KvSnapshot): void {
    const value: PersistedStable = {
      seq,
      digest: this.stableDigest,
      proof: this.stableProof,
      state,
    };
    this.ctx.persist('stable', value);
  }

  private fetchState(): void {
    for (const node of this.stableProof) {
      if (node !== this.ctx.self) this.send(node, { t: 'fetch-state', seq: this.h });
    }
  }

  private onFetchState(from: NodeId, seq: number): void {
    const own = this.ownCheckpoints.get(seq);
    if (own !== undefined) this.send(from, { t: 'state', seq, state: own.state });
  }

  /** State transfer: accepted only for the stable checkpoint, whose digest 2f+1 vouched for. */
  private onState(seq: number, state: KvSnapshot): void {
    if (this.executed >= seq) return;
    const digest = digestOf(state);
    const vouched =
      (seq === this.h && digest === this.stableDigest) ||
      (this.catchUp !== null && seq === this.catchUp.seq && digest === this.catchUp.digest);
    if (!vouched) return;
    this.catchUp = null;
    this.machine.restore(state);
    this.executed = seq;
    this.ownCheckpoints.set(seq, { digest, state });
    if (seq === this.h) this.persistStable(seq, state);
    if (seq > this.h) {
      // Our own CHECKPOINT for it: with the f+1 that vouched, it can become stable.
      this.recordCheckpoint(this.ctx.self, seq, digest);
      this.broadcast({ t: 'checkpoint', seq, digest });
    }
    for (const key of Array.from(this.pending.keys())) {
      const req = this.pending.get(key) as ClientRequest<KvOp>;
      if (this.machine.hasExecuted(req.client, req.seq)) this.pending.delete(key);
    }
    this.emitCorrect({ kind: 'snapshot-installed', slot: seq, digest });
    this.executeCommitted();
    this.rearmViewTimer();
  }

  // ---------------------------------------------------------------- view change

  private startViewChange(view: number, reason: string): void {
    if (view <= this.view && this.inViewChange) return;
    this.view = view;
    this.inViewChange = true;
    this.persistView();
    this.queue.length = 0;
    this.queued.clear();
    const prepared: PreparedProof[] = [];
    for (const [seq, slot] of this.slots)
      if (seq > this.h && slot.prepared !== null) prepared.push(slot.prepared);
    prepared.sort((a, b) => a.seq - b.seq);
    const vc: ViewChangeBody = {
      view,
      replica: this.ctx.self,
      stable: this.h,
      stableDigest: this.stableDigest,
      checkpointProof: this.stableProof,
      prepared,
    };
    this.ownViewChange = vc;
    this.viewChangesFor(view).set(this.ctx.self, vc);
    this.ctx.emit({ kind: 'view-change', view, reason });
    this.broadcast({ t: 'view-change', ...vc });
    this.disarmViewTimer();
    this.armViewTimerOnQuorum();
    this.checkNewView();
  }

  private viewChangesFor(view: number): Map<NodeId, ViewChangeBody> {
    let m = this.viewChanges.get(view);
    if (m === undefined) {
      m = new Map();
      this.viewChanges.set(view, m);
    }
    return m;
  }

  private onViewChange(from: NodeId, vc: ViewChangeBody): void {
    if (vc.replica !== from) return this.reject(from, 'VIEW-CHANGE names another replica');
    // Help a replica left behind (it retransmits its VIEW-CHANGE every tick): our stable
    // checkpoint lets it fetch the state once f+1 vouch for it, and the primary of a later view
    // re-sends that view's NEW-VIEW so it can join it instead of waiting for the next one.
    if (vc.stable < this.h) {
      const own = this.ownCheckpoints.get(this.h);
      if (own !== undefined) this.send(from, { t: 'checkpoint', seq: this.h, digest: own.digest });
    }
    if (vc.view < this.view) {
      const nv = this.lastNewView;
      if (!this.inViewChange && nv !== null && nv.t === 'new-view' && nv.view === this.view) {
        this.send(from, nv);
      }
      return;
    }
    const problem = viewChangeProblem(vc, this.f, this.config.logWindow);
    if (problem !== null) return this.reject(from, `VIEW-CHANGE: ${problem}`);
    if (vc.view === this.view && !this.inViewChange) {
      // Already in the view: the sender missed the NEW-VIEW.
      if (this.lastNewView !== null && this.isPrimary()) this.send(from, this.lastNewView);
      return;
    }
    this.viewChangesFor(vc.view).set(from, vc);
    if (vc.view === this.view) this.armViewTimerOnQuorum();
    if (vc.view > this.view) {
      // f+1 replicas want a higher view: at least one correct one does, so join the lowest.
      const latest = new Map<NodeId, number>();
      for (const [v, m] of this.viewChanges) {
        if (v <= this.view) continue;
        for (const node of m.keys()) latest.set(node, Math.max(latest.get(node) ?? 0, v));
      }
      const views = Array.from(latest.values()).sort((a, b) => b - a);
      if (views.length >= this.f + 1) {
        this.startViewChange(
          views[this.f] as number,
          `${this.f + 1} replicas moved past view ${this.view}`,
        );
      }
      return;
    }
    this.checkNewView();
  }

  /** The new primary: with 2f+1 VIEW-CHANGEs for its view, compute and send NEW-VIEW. */
  private checkNewView(): void {
    if (!this.inViewChange || !this.isPrimary()) return;
    const vcs = this.viewChanges.get(this.view);
    if (vcs === undefined || vcs.size < 2 * this.f + 1) return;
    if (this.byz.acts('stall', `primary ${this.ctx.self} withholds NEW-VIEW ${this.view}`)) return;
    const chosen = Array.from(vcs.values())
      .sort((a, b) => (a.replica < b.replica ? -1 : 1))
      .slice(0, 2 * this.f + 1);
    const prePrepares = computeNewView(chosen);
    const nv: PbftBody = { t: 'new-view', view: this.view, viewChanges: chosen, prePrepares };
    this.lastNewView = nv;
    this.broadcast(nv);
    this.enterView(this.view, chosen, prePrepares);
  }

  private onNewView(
    from: NodeId,
    view: number,
    viewChanges: readonly ViewChangeBody[],
    prePrepares: readonly PrePrepareEntry[],
  ): void {
    if (view < this.view || (view === this.view && !this.inViewChange)) return;
    if (from !== this.primaryOf(view))
      return this.reject(from, `NEW-VIEW ${view} not from its primary`);
    const senders = new Set(viewChanges.map((vc) => vc.replica));
    if (senders.size !== viewChanges.length || senders.size < 2 * this.f + 1) {
      return this.reject(from, `NEW-VIEW ${view} lacks 2f+1 distinct VIEW-CHANGEs`);
    }
    for (const vc of viewChanges) {
      const problem =
        vc.view !== view
          ? `for view ${vc.view}`
          : viewChangeProblem(vc, this.f, this.config.logWindow);
      if (problem !== null || !this.ctx.servers.includes(vc.replica)) {
        return this.reject(
          from,
          `NEW-VIEW ${view} carries a bad VIEW-CHANGE: ${problem ?? vc.replica}`,
        );
      }
    }
    if (!sameNewView(computeNewView(viewChanges), prePrepares)) {
      return this.reject(
        from,
        `NEW-VIEW ${view} pre-prepares differ from the ones its VIEW-CHANGEs imply`,
      );
    }
    this.enterView(view, viewChanges, prePrepares);
  }

  private enterView(
    view: number,
    viewChanges: readonly ViewChangeBody[],
    prePrepares: readonly PrePrepareEntry[],
  ): void {
    this.view = view;
    this.inViewChange = false;
    this.persistView();
    this.ownViewChange = null;
    for (const v of Array.from(this.viewChanges.keys())) if (v <= view) this.viewChanges.delete(v);
    this.ctx.emit({ kind: 'view-installed', view, leader: this.primaryOf(view) });
    let best: ViewChangeBody | null = null;
    for (const vc of viewChanges) if (best === null || vc.stable > best.stable) best = vc;
    if (best !== null && best.stable > this.h) {
      this.makeStable(best.stable, best.stableDigest, best.checkpointProof);
    }
    let maxSeq = Math.max(this.h, this.executed);
    for (const pp of prePrepares) {
      maxSeq = Math.max(maxSeq, pp.seq);
      if (pp.seq <= this.h) continue;
      const slot = this.slot(pp.seq);
      if (slot.digest !== pp.digest) slot.committed = false;
      slot.sentPrepare = false;
      slot.sentCommit = false;
      this.acceptPrePrepare(pp.seq, slot, view, pp.digest, pp.cmd);
    }
    this.nextSeq = maxSeq + 1;
    this.disarmViewTimer();
    if (this.isPrimary()) {
      const ordered = new Set<string>();
      for (const pp of prePrepares)
        if (pp.cmd.type === 'batch') for (const r of pp.cmd.reqs) ordered.add(requestKey(r));
      for (const [key, req] of this.pending) {
        if (!ordered.has(key) && !this.machine.hasExecuted(req.client, req.seq)) this.enqueue(req);
      }
    } else {
      for (const req of this.pending.values())
        this.send(this.primaryOf(view), { t: 'request', req });
    }
    this.rearmViewTimer();
  }

  // ---------------------------------------------------------------- timers

  /**
   * Liveness rule of the paper (section 4.5.2): the timer for a new view starts only once
   * 2f+1 replicas asked for it, so a replica cut off from the others waits in its view
   * instead of racing to ever higher views the others can never catch up with. Each
   * consecutive view then gets twice as long.
   */
  private armViewTimerOnQuorum(): void {
    if (!this.inViewChange || this.viewTimerArmed) return;
    if ((this.viewChanges.get(this.view)?.size ?? 0) < 2 * this.f + 1) return;
    this.armViewTimer();
    this.viewTimeout_ms = Math.min(this.viewTimeout_ms * 2, this.config.viewChangeTimeoutMax_ms);
  }

  private armViewTimer(): void {
    this.viewTimerArmed = true;
    this.ctx.setTimer(VIEW_TIMER, this.viewTimeout_ms);
  }

  private disarmViewTimer(): void {
    this.viewTimerArmed = false;
    this.ctx.cancelTimer(VIEW_TIMER);
  }

  /** Progress was made: restart the timer if requests are still waiting. */
  private rearmViewTimer(): void {
    if (this.inViewChange) return;
    if (this.pending.size > 0) this.armViewTimer();
    else this.disarmViewTimer();
  }

  /** Retransmission for lossy links: only while this replica is not making progress. */
  private onTick(): void {
    if (this.executed < this.h) this.fetchState();
    if (this.inViewChange) {
      this.fetchCatchUpState();
      if (this.ownViewChange !== null) this.broadcast({ t: 'view-change', ...this.ownViewChange });
      return;
    }
    const stuck = this.ticksExecuted === this.executed;
    this.ticksExecuted = this.executed;
    if (!stuck) return;
    this.fetchCatchUpState();
    for (let seq = this.executed + 1; seq <= this.executed + RETRANSMIT_SLOTS; seq++) {
      const slot = this.slots.get(seq);
      if (slot === undefined || slot.view !== this.view || slot.cmd === null) continue;
      const { view, digest, cmd } = slot;
      if (this.isPrimary()) this.broadcast({ t: 'pre-prepare', view, seq, digest, cmd });
      if (slot.sentPrepare) this.broadcast({ t: 'prepare', view, seq, digest });
      if (slot.sentCommit) this.broadcast({ t: 'commit', view, seq, digest });
    }
    const ownLatest = Math.max(0, ...this.ownCheckpoints.keys());
    const own = this.ownCheckpoints.get(ownLatest);
    if (own !== undefined && ownLatest > this.h) {
      this.broadcast({ t: 'checkpoint', seq: ownLatest, digest: own.digest });
    }
  }

  // ---------------------------------------------------------------- output

  private send(to: NodeId, body: PbftBody): void {
    this.byz.send(to, body, this.auth.sign(body));
  }

  private broadcast(body: PbftBody): void {
    const auth = this.auth.sign(body);
    for (const to of this.ctx.servers) if (to !== this.ctx.self) this.byz.send(to, body, auth);
  }

  private reply(reply: ClientReply<KvOutput>): void {
    this.byz.reply(reply);
  }

  /** Byzantine replicas' own logs prove nothing: only correct replicas report executions. */
  private emitCorrect(event: ProtocolEvent): void {
    if (this.byz.behaviour === null) this.ctx.emit(event);
  }

  private reject(source: NodeId, reason: string): void {
    this.ctx.emit({ kind: 'rejected-input', source, reason });
  }

  private slot(seq: number): Slot {
    let slot = this.slots.get(seq);
    if (slot === undefined) {
      slot = {
        view: -1,
        digest: '',
        cmd: null,
        prepares: new Map(),
        commits: new Map(),
        sentPrepare: false,
        sentCommit: false,
        prepared: null,
        committed: false,
      };
      this.slots.set(seq, slot);
    }
    return slot;
  }

  private primaryOf(view: number): NodeId {
    return this.ctx.servers[view % this.n] as NodeId;
  }

  private isPrimary(): boolean {
    return this.primaryOf(this.view) === this.ctx.self;
  }
}

function requestKey(req: ClientRequest<KvOp>): string {
  return `${req.client}:${req.seq}`;
}
