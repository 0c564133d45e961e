import type { NodeId, TimerName } from '../../core/ids';
import type {
  ClientRequest,
  Context,
  Persisted,
  Protocol,
  ReplicaStatus,
} from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { createReplicaAuth, type SignatureScheme } from './auth-scheme';
import { rememberCanonical } from './authenticator';
import type { Hmac } from './hmac-sha256';
import { Checkpoints } from './checkpoints';
import { ClientAuthenticator } from './client-auth';
import { byzantineBehaviours, isByzantineBehaviour, type PbftConfig } from './config';
import { MAX_VIEW_AHEAD, type PbftMessage } from './messages';
import { NormalCase } from './normal-case';
import type { ReplicaParts } from './replica-parts';
import { ReplicaState, type PersistedSlot, type PersistedStable } from './replica-state';
import { RequestIntake } from './requests';
import { ViewChanges } from './view-change';
import { VIEW_TIMER, ViewTimer } from './view-timer';

const TICK: TimerName = 'tick';

/**
 * A PBFT replica (Castro and Liskov '99; seed 002 slides 21–29), sans-IO:
 * - n = 3f+1; the primary of view v is servers[v mod n];
 * - normal case PRE-PREPARE → PREPARE → COMMIT (normal-case.ts), client requests batched by
 *   the primary (requests.ts);
 * - every inter-replica message carries a MAC authenticator, or an Ed25519 signature in
 *   signature mode (auth-scheme.ts); a bad one is dropped and counted; so are client
 *   requests without their client's MAC (client-auth.ts);
 * - checkpoints, watermarks, garbage collection and state transfer (checkpoints.ts);
 * - view change with NEW-VIEW recomputed and checked by every backup (view-change.ts);
 *   timeouts double on consecutive view changes (view-timer.ts);
 * - optional Byzantine behaviour for this replica (config.byzantine), see byzantine.ts.
 * This class routes inputs to those parts and does crash recovery.
 */
export class PbftReplica implements Protocol<PbftMessage, KvOp> {
  private readonly s: ReplicaState;
  private readonly p: ReplicaParts;

  /** `signatures` is the Ed25519 implementation for `auth: 'ed25519'` (default: pure TS). */
  constructor(
    ctx: Context<PbftMessage, KvOutput>,
    config: PbftConfig,
    signatures?: SignatureScheme,
    hmac?: Hmac,
  ) {
    const auth = createReplicaAuth(ctx.self, ctx.servers, config, signatures, hmac);
    const s = new ReplicaState(
      ctx,
      config,
      auth,
      new ClientAuthenticator(ctx.servers, config.secret, hmac),
    );
    const p = {} as { -readonly [K in keyof ReplicaParts]: ReplicaParts[K] };
    p.requests = new RequestIntake(s, p);
    p.normal = new NormalCase(s, p);
    p.checkpoints = new Checkpoints(s, p);
    p.views = new ViewChanges(s, p);
    p.timer = new ViewTimer(s);
    this.s = s;
    this.p = p;
  }

  /**
   * The operator turns this replica Byzantine, or honest again. A replica back from lying
   * resumes reporting executions from where it is (`recovered`): what it executed while
   * Byzantine was never reported, and a Byzantine replica's own log proves nothing anyway.
   */
  setBehaviour(behaviour: string | null): void {
    const s = this.s;
    if (behaviour !== null && !isByzantineBehaviour(behaviour)) {
      throw new Error(
        `PBFT has no behaviour ${behaviour}; expected one of ${byzantineBehaviours.join(', ')} (or null for honest)`,
      );
    }
    const was = s.byz.behaviour;
    if (was === behaviour) return;
    s.byz.switchTo(behaviour);
    s.ctx.emit({
      kind: 'behaviour',
      name: behaviour ?? 'honest',
      detail: `switched by the operator: ${was ?? 'honest'} -> ${behaviour ?? 'honest'}`,
    });
    if (behaviour === null) s.ctx.emit({ kind: 'recovered', view: s.view, slot: s.executed });
  }

  /** Messages and client requests dropped for a bad MAC or signature. */
  get rejectedMacs(): number {
    return this.s.rejectedMacs;
  }

  // ---------------------------------------------------------------- lifecycle

  init(): void {
    const s = this.s;
    s.ctx.setTimer(TICK, s.config.tick_ms);
    if (s.isPrimary()) s.ctx.emit({ kind: 'view-installed', view: 0, leader: s.ctx.self });
  }

  /**
   * Restart from stable storage: the last stable checkpoint with its state, the view, and per
   * sequence number what this replica accepted and sent — so it never contradicts a PREPARE
   * or COMMIT it sent before the crash. Committed requests above the checkpoint are executed
   * again from it (the `recovered` event tells the agreement checker so).
   */
  recover(persisted: Persisted): void {
    const s = this.s;
    const stable = persisted.get('stable') as PersistedStable | undefined;
    if (stable !== undefined) {
      s.machine.restore(stable.state);
      s.executed = stable.seq;
      s.h = stable.seq;
      s.stableDigest = stable.digest;
      s.stableProof = stable.proof;
      s.ownCheckpoints.set(stable.seq, { digest: stable.digest, state: stable.state });
    }
    const view = persisted.get('view') as { view: number; inViewChange: boolean } | undefined;
    let maxSeq = s.h;
    for (const [key, value] of persisted) {
      if (!key.startsWith('slot:')) continue;
      const seq = Number(key.slice(5));
      const ps = value as PersistedSlot;
      if (seq <= s.h) continue;
      const slot = s.slot(seq);
      const { prePrepared, ...rest } = ps;
      Object.assign(slot, { ...rest, prepares: slot.prepares, commits: slot.commits });
      for (const [digest, v] of prePrepared ?? []) slot.prePrepared.set(digest, v);
      // Slots written before Q was kept: the accepted pre-prepare is the one known.
      if (slot.cmd !== null && slot.view >= 0) s.notePrePrepared(slot, slot.view, slot.digest);
      if (ps.sentPrepare) slot.prepares.set(s.ctx.self, { view: ps.view, digest: ps.digest });
      if (ps.sentCommit) slot.commits.set(s.ctx.self, { view: ps.view, digest: ps.digest });
      maxSeq = Math.max(maxSeq, seq);
    }
    s.nextSeq = maxSeq + 1;
    s.view = view?.view ?? 0;
    s.ctx.emit({ kind: 'recovered', view: s.view, slot: s.executed });
    s.ctx.setTimer(TICK, s.config.tick_ms);
    this.p.normal.executeCommitted();
    if (view?.inViewChange === true) this.p.views.start(s.view, 'recovered during a view change');
  }

  inspect(): ReplicaStatus {
    const s = this.s;
    return {
      role: s.isPrimary() ? 'primary' : 'backup',
      view: s.view,
      executed: s.executed,
      chain: s.machine.chain,
      byzantine: s.byz.behaviour,
      inViewChange: s.inViewChange,
      lowWatermark: s.h,
      logSize: s.slots.size,
      checkpointVoteSets: s.checkpointVotes.size,
      queued: s.queue.length,
      pending: s.pending.size,
      rejectedMacs: s.rejectedMacs,
      viewTimeout_ms: s.viewTimeout_ms,
      auth: s.auth.scheme,
    };
  }

  // ---------------------------------------------------------------- inputs

  onTimer(name: TimerName): void {
    const s = this.s;
    if (name === TICK) {
      s.ctx.setTimer(TICK, s.config.tick_ms);
      this.onTick();
    } else if (name === VIEW_TIMER) {
      s.viewTimerArmed = false;
      if (s.inViewChange) this.p.views.start(s.view + 1, `no NEW-VIEW for view ${s.view}`);
      else if (s.pending.size > 0) {
        this.p.views.start(s.view + 1, `a request did not execute in view ${s.view}`);
      }
    }
  }

  onClientRequest(req: ClientRequest<KvOp>): void {
    this.p.requests.onClientRequest(req);
  }

  onMessage(from: NodeId, msg: PbftMessage): void {
    const s = this.s;
    if (!s.ctx.servers.includes(from) || from === s.ctx.self) {
      return s.reject(from, 'message from a node that is not a peer replica');
    }
    const { auth, ...body } = msg;
    // The batch is encoded for the MAC check and again for its digest: encode it once.
    if (body.t === 'pre-prepare') rememberCanonical(body.cmd);
    if (!s.auth.verify(from, body, auth)) {
      s.rejectedMacs++;
      return s.reject(from, `bad ${s.auth.scheme === 'mac' ? 'MAC' : 'signature'} on ${body.t}`);
    }
    if ('view' in body && body.view > s.view + MAX_VIEW_AHEAD) {
      return s.reject(from, `view ${body.view} is more than ${MAX_VIEW_AHEAD} ahead of ${s.view}`);
    }
    const p = this.p;
    switch (body.t) {
      case 'request':
        return p.requests.onRelayedRequest(from, body.req);
      case 'pre-prepare':
        return p.normal.onPrePrepare(from, body.view, body.seq, body.digest, body.cmd);
      case 'prepare':
        return p.normal.onVote('prepare', from, body.view, body.seq, body.digest);
      case 'commit':
        return p.normal.onVote('commit', from, body.view, body.seq, body.digest);
      case 'checkpoint':
        return p.checkpoints.onCheckpoint(from, body.seq, body.digest);
      case 'view-change': {
        const { t: _t, ...vc } = body;
        return p.views.onViewChange(from, vc, auth);
      }
      case 'new-view':
        return p.views.onNewView(from, body.view, body.viewChanges, body.prePrepares);
      case 'fetch-state':
        return p.checkpoints.onFetchState(from, body.seq);
      case 'state':
        return p.checkpoints.onState(body.seq, body.state);
    }
  }

  /** Retransmission for lossy links: only while this replica is not making progress. */
  private onTick(): void {
    const s = this.s;
    if (s.executed < s.h) this.p.checkpoints.fetchState();
    if (s.inViewChange) {
      this.p.checkpoints.fetchCatchUpState();
      if (s.ownViewChange !== null) s.broadcast({ t: 'view-change', ...s.ownViewChange });
      return;
    }
    const stuck = s.ticksExecuted === s.executed;
    s.ticksExecuted = s.executed;
    if (!stuck) return;
    this.p.checkpoints.fetchCatchUpState();
    this.p.normal.retransmit();
    this.p.checkpoints.retransmitOwn();
  }
}
