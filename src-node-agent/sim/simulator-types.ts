import type { NodeId, TimerName } from '../core/ids';
import type { ClientProtocol, Protocol, AnyStack } from '../core/protocol';
import type { LinkModel } from './network';
import type { Prng } from './prng';

/** The simulator's options and its internal bookkeeping types (simulator.ts). */

/** What the simulated clients run: the next operation for a client. */
export interface Workload<Op> {
  next(client: NodeId, prng: Prng): Op;
}

export interface SimulatorOptions<Op> {
  readonly stack: AnyStack;
  readonly config: unknown;
  readonly nodes: number;
  readonly clients: number;
  readonly seed: number;
  readonly workload: Workload<Op>;
  /** Pause between a client's operations. */
  readonly thinkTime_us?: number;
  readonly link?: LinkModel;
  /** Parse every delivered message and request with the stack's schema (slower; the agent
   * always does). Injected garbage is always parsed. */
  readonly validateMessages?: boolean;
  /** Record every message delivery in the log (for message-flow diagrams and debugging). */
  readonly traceMessages?: boolean;
  readonly invariantInterval_us?: number;
  readonly maxQueuedEvents?: number;
  readonly maxLogRecords?: number;
  /** Messages held for a paused node before it drops them, like a full socket buffer. */
  readonly pausedInboxLimit?: number;
}

export type NodeStatus = 'up' | 'crashed' | 'paused';

export interface ServerSlot {
  readonly id: NodeId;
  status: NodeStatus;
  incarnation: number;
  protocol: Protocol<unknown, unknown> | null;
  /** Stable storage: survives crashes. */
  readonly persisted: Map<string, unknown>;
  /** Live timer tokens; a fired timer whose token is stale is ignored. */
  readonly timers: Map<TimerName, number>;
  readonly pausedInbox: SimEvent[];
  readonly prng: Prng;
  received: number;
  rejected: number;
}

export interface ClientSlot {
  readonly id: NodeId;
  readonly protocol: ClientProtocol<unknown, unknown>;
  readonly timers: Map<TimerName, number>;
  readonly prng: Prng;
  outstanding: { opId: number; op: unknown } | null;
  completed: number;
}

export const enum Kind {
  Message,
  Request,
  Reply,
  ServerTimer,
  ClientTimer,
  ClientNext,
  Fault,
  Invariants,
  Raw,
}

export interface SimEvent {
  at_us: number;
  seq: number;
  kind: Kind;
  node: NodeId;
  from: NodeId;
  payload: unknown;
  token: number;
  incarnation: number;
  sent_us: number;
}
