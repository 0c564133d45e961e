import { digestOf } from '../../core/hash';
import type { ProtocolEvent } from '../../core/events';
import type { NodeId } from '../../core/ids';
import type { ClientReply, ClientRequest, Context } from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { KvMachine, type KvSnapshot } from '../kv/kv-machine';
import type { ReplicaAuth } from './auth-scheme';
import { ByzantineDriver } from './byzantine';
import type { ClientAuthenticator } from './client-auth';
import type { PbftConfig } from './config';
import type {
  Command,
  PbftBody,
  PbftMessage,
  PreparedProof,
  SignedViewChange,
  ViewChangeBody,
} from './messages';

/** Distinct requests remembered as pre-prepared per sequence number (one per view change). */
const MAX_PREPREPARED_DIGESTS = 8;

/** Per sequence number: the accepted pre-prepare, the votes, and the prepare certificate. */
export interface Slot {
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
  /** Every digest pre-prepared here, with the latest view it was (a VIEW-CHANGE's Q). */
  readonly prePrepared: Map<string, number>;
}

export interface PersistedSlot {
  readonly view: number;
  readonly digest: string;
  readonly cmd: Command | null;
  readonly sentPrepare: boolean;
  readonly sentCommit: boolean;
  readonly prepared: PreparedProof | null;
  readonly committed: boolean;
  /** [digest, view] pairs; absent in slots written before it existed. */
  readonly prePrepared?: readonly (readonly [string, number])[];
}

export interface PersistedStable {
  readonly seq: number;
  readonly digest: string;
  readonly proof: readonly NodeId[];
  readonly state: KvSnapshot;
}

/**
 * Everything one PBFT replica knows, shared by the parts that each run one job of the
 * protocol (requests.ts, normal-case.ts, checkpoints.ts, view-change.ts), plus the outputs
 * they all use. It decides nothing itself.
 */
export class ReplicaState {
  readonly n: number;
  readonly f: number;
  readonly byz: ByzantineDriver;

  view = 0;
  /** Waiting for NEW-VIEW of `view`. */
  inViewChange = false;
  viewTimeout_ms: number;
  viewTimerArmed = false;

  executed = 0;
  machine = new KvMachine();
  readonly slots = new Map<number, Slot>();

  /** Low watermark h = last stable checkpoint. */
  h = 0;
  stableDigest: string;
  stableProof: readonly NodeId[] = [];
  readonly checkpointVotes = new Map<number, Map<NodeId, string>>();
  /** This replica's own checkpoints at and above h: digest and state, for state transfer. */
  readonly ownCheckpoints = new Map<number, { digest: string; state: KvSnapshot }>();

  /** VIEW-CHANGEs per view; in signature mode each keeps its sender's signature. */
  readonly viewChanges = new Map<number, Map<NodeId, SignedViewChange>>();
  ownViewChange: ViewChangeBody | null = null;
  lastNewView: PbftBody | null = null;

  // Primary state.
  nextSeq = 1;
  readonly queue: ClientRequest<KvOp>[] = [];
  readonly queued = new Set<string>();
  /** Requests this replica knows of and has not executed: the view-change timer runs on them. */
  readonly pending = new Map<string, ClientRequest<KvOp>>();

  ticksExecuted = -1;
  /** A checkpoint above our execution that f+1 replicas vouch for: where to catch up to. */
  catchUp: { seq: number; digest: string; from: readonly NodeId[] } | null = null;
  /** Messages and client requests dropped for a bad MAC or signature: detected faults. */
  rejectedMacs = 0;

  constructor(
    readonly ctx: Context<PbftMessage, KvOutput>,
    readonly config: PbftConfig,
    readonly auth: ReplicaAuth,
    readonly clientAuth: ClientAuthenticator,
  ) {
    this.n = ctx.servers.length;
    this.f = Math.floor((this.n - 1) / 3);
    this.viewTimeout_ms = config.viewChangeTimeout_ms;
    this.byz = new ByzantineDriver(ctx, config.byzantine[ctx.self] ?? null);
    this.stableDigest = digestOf(this.machine.snapshot());
  }

  // ---------------------------------------------------------------- queries

  primaryOf(view: number): NodeId {
    return this.ctx.servers[view % this.n] as NodeId;
  }

  isPrimary(): boolean {
    return this.primaryOf(this.view) === this.ctx.self;
  }

  /**
   * Record a pre-prepare this replica accepted (or, as primary, sent) for the slot. Digests
   * per slot are bounded: a slot sees a new one only through a view change, and the oldest
   * view is forgotten first.
   */
  notePrePrepared(slot: Slot, view: number, digest: string): void {
    slot.prePrepared.set(digest, Math.max(view, slot.prePrepared.get(digest) ?? -1));
    if (slot.prePrepared.size <= MAX_PREPREPARED_DIGESTS) return;
    let oldest: string | null = null;
    for (const [d, v] of slot.prePrepared) {
      if (oldest === null || v < (slot.prePrepared.get(oldest) as number)) oldest = d;
    }
    if (oldest !== null) slot.prePrepared.delete(oldest);
  }

  inWindow(seq: number): boolean {
    return seq > this.h && seq <= this.h + this.config.logWindow;
  }

  slot(seq: number): Slot {
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
        prePrepared: new Map(),
      };
      this.slots.set(seq, slot);
    }
    return slot;
  }

  // ---------------------------------------------------------------- stable storage

  persistSlot(seq: number, slot: Slot): void {
    const value: PersistedSlot = {
      view: slot.view,
      digest: slot.digest,
      cmd: slot.cmd,
      sentPrepare: slot.sentPrepare,
      sentCommit: slot.sentCommit,
      prepared: slot.prepared,
      committed: slot.committed,
      prePrepared: Array.from(slot.prePrepared),
    };
    this.ctx.persist(`slot:${seq}`, value);
  }

  persistView(): void {
    this.ctx.persist('view', { view: this.view, inViewChange: this.inViewChange });
  }

  persistStable(seq: number, state: KvSnapshot): void {
    const value: PersistedStable = {
      seq,
      digest: this.stableDigest,
      proof: this.stableProof,
      state,
    };
    this.ctx.persist('stable', value);
  }

  // ---------------------------------------------------------------- output

  send(to: NodeId, body: PbftBody): void {
    this.byz.send(to, body, this.auth.sign(body));
  }

  broadcast(body: PbftBody): void {
    const auth = this.auth.sign(body);
    // A correct replica sends one message object to all: the driver can encode it once.
    if (this.byz.behaviour === null) this.ctx.broadcast({ ...body, auth });
    else for (const to of this.ctx.servers) if (to !== this.ctx.self) this.byz.send(to, body, auth);
  }

  reply(reply: ClientReply<KvOutput>): void {
    this.byz.reply(reply);
  }

  /** Byzantine replicas' own logs prove nothing: only correct replicas report executions. */
  emitCorrect(event: ProtocolEvent): void {
    if (this.byz.behaviour === null) this.ctx.emit(event);
  }

  reject(source: NodeId, reason: string): void {
    this.ctx.emit({ kind: 'rejected-input', source, reason });
  }
}

export function requestKey(req: ClientRequest<KvOp>): string {
  return `${req.client}:${req.seq}`;
}
