import type { z } from 'zod';
import type { ProtocolEvent } from './events';
import type { NodeId, TimerName } from './ids';

/**
 * A client request as every stack sees it. `client` + `seq` identify it for at-most-once
 * execution (seed 004: "each client request is allocated a unique sequence number"); a client
 * id is unique per client incarnation, so a restarted client never reuses a (client, seq).
 */
export interface ClientRequest<Op> {
  readonly client: NodeId;
  readonly seq: number;
  readonly op: Op;
}

/** A replica's answer to a client. `redirect` tells the client whom to try instead. */
export type ClientReply<Out> =
  | { readonly client: NodeId; readonly seq: number; readonly type: 'ok'; readonly output: Out }
  | {
      readonly client: NodeId;
      readonly seq: number;
      readonly type: 'redirect';
      readonly leaderHint: NodeId | null;
    }
  | {
      readonly client: NodeId;
      readonly seq: number;
      readonly type: 'busy';
      readonly reason: string;
    };

/**
 * Values handed to `persist` must be JSON-serializable and must not be mutated afterwards:
 * the simulator keeps the reference, the agent writes it to disk.
 */
export type Persisted = ReadonlyMap<string, unknown>;

/**
 * Everything a replica may do to the world. Nothing else: no sockets, clocks, disks or
 * random generator in a stack. The driver applies the effects of one step in a fixed order —
 * persist first, then sends and replies — so a message never claims state that a crash
 * could lose (the etcd raft Ready order).
 */
export interface Context<M, Out> {
  readonly self: NodeId;
  /** Every replica of the cluster, self included, in a fixed order. */
  readonly servers: readonly NodeId[];
  send(to: NodeId, msg: M): void;
  /** Send to every other replica. */
  broadcast(msg: M): void;
  /** (Re)arm a timer; one with the same name is replaced. */
  setTimer(name: TimerName, after_ms: number): void;
  cancelTimer(name: TimerName): void;
  reply(reply: ClientReply<Out>): void;
  /** Stable storage: survives a crash. `undefined` deletes the key. */
  persist(key: string, value: unknown): void;
  emit(event: ProtocolEvent): void;
  /** Milliseconds on this node's clock (virtual in the simulator); monotonic. */
  now(): number;
  /** Uniform integer in [0, bound), from the driver's seeded PRNG. */
  randomInt(bound: number): number;
  /** Uniform in [0, 1), exactly representable (a 32-bit integer over 2^32). */
  random(): number;
}

/** A replica state machine. Every input is one call; all output goes through the Context. */
export interface Protocol<M, Op> {
  /** First start: nothing persisted. */
  init(): void;
  /** Restart after a crash: volatile state is gone, `persisted` is what `persist` wrote. */
  recover(persisted: Persisted): void;
  onMessage(from: NodeId, msg: M): void;
  onTimer(name: TimerName): void;
  onClientRequest(req: ClientRequest<Op>): void;
  /** A small JSON view of the replica's state for invariants, the dashboard and debugging. */
  inspect(): ReplicaStatus;
  /**
   * The operator switches this replica to a Byzantine behaviour while it runs, or back to
   * honest (null). Stacks without Byzantine behaviours leave it out; an unknown behaviour
   * throws an Error naming the ones the stack has.
   */
  setBehaviour?(behaviour: string | null): void;
}

export interface ReplicaStatus {
  readonly role: 'leader' | 'follower' | 'candidate' | 'primary' | 'backup' | 'replica';
  readonly view: number;
  /** Highest slot executed in order (0 = nothing yet). */
  readonly executed: number;
  readonly [extra: string]: unknown;
}

/** What a client can do: talk to replicas, keep timers, finish the op it is running. */
export interface ClientContext<Op, Out> {
  readonly self: NodeId;
  readonly servers: readonly NodeId[];
  send(to: NodeId, req: ClientRequest<Op>): void;
  setTimer(name: TimerName, after_ms: number): void;
  cancelTimer(name: TimerName): void;
  /** The outstanding op finished with a definite result. */
  complete(output: Out): void;
  now(): number;
  randomInt(bound: number): number;
}

/** A stack's client library: one outstanding operation at a time, retried at-most-once. */
export interface ClientProtocol<Op, Out> {
  invoke(op: Op): void;
  onReply(from: NodeId, reply: ClientReply<Out>): void;
  onTimer(name: TimerName): void;
}

/** A named property the simulator checks over the replicas' `inspect()` views as it runs. */
export interface Invariant {
  readonly name: string;
  /** Returns a description of the violation, or null when it holds. */
  check(statuses: ReadonlyMap<NodeId, ReplicaStatus>): string | null;
}

/** Everything FaultLab needs to know about a stack; the unit a plug-in provides. */
export interface StackDefinition<M, Op, Out, Config> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: z.ZodType<Config>;
  readonly messageSchema: z.ZodType<M>;
  readonly requestSchema: z.ZodType<ClientRequest<Op>>;
  readonly replySchema: z.ZodType<ClientReply<Out>>;
  /** Smallest cluster and a check of the size (e.g. PBFT needs 3f+1). Returns an error or null. */
  validateClusterSize(n: number, config: Config): string | null;
  createReplica(ctx: Context<M, Out>, config: Config): Protocol<M, Op>;
  createClient(ctx: ClientContext<Op, Out>, config: Config): ClientProtocol<Op, Out>;
  readonly invariants: readonly Invariant[];
  /** Behaviours `Protocol.setBehaviour` accepts; absent for stacks without Byzantine replicas. */
  readonly byzantineBehaviours?: readonly string[];
}

/** A stack of any message/op/output/config types: what registries and drivers hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous registry
export type AnyStack = StackDefinition<any, any, any, any>;
