/**
 * A sequential specification the linearizability checker replays operations against. It is a
 * pure function of its inputs: the checker calls `step` on the same state many times while it
 * backtracks, so `step` must never mutate `state`.
 */
export interface Model<State, Op, Out> {
  /** Shown in results and errors, e.g. "kv". */
  readonly name: string;

  init(): State;

  /**
   * The state after `op` takes effect in `state` and returns `output`, or null when that output
   * is impossible in that state (the op cannot be linearized here). `output` undefined means the
   * outcome is unknown (a timed-out client), so any output is accepted. Because null means
   * "illegal", `State` itself must not include null (box it if the domain has one).
   */
  step(state: State, op: Op, output: Out | undefined): State | null;

  /**
   * P-compositionality (Herlihy & Wing): a history is linearizable iff each of its sub-histories
   * per partition is, when operations on different partitions never affect each other. Checking
   * partitions separately turns one exponential search into many small ones. Omit when every
   * operation may interact with every other.
   */
  partition?(op: Op): string;

  /**
   * Operations that never change the state (reads). Optional, and only an optimization: one
   * whose outcome is unknown explains nothing, so the checker drops it instead of carrying it,
   * forever pending, through the search (as Jepsen's Knossos does with crashed reads).
   */
  readOnly?(op: Op): boolean;

  /**
   * Equal states must give equal keys and different states different keys: the checker memoizes
   * (linearized set, state) pairs by this key, so a collision can hide a violation.
   */
  stateKey(state: State): string;

  /** One line for explanations, e.g. "put(x, 1) → ok"; `output` undefined = unknown outcome. */
  describeOp(op: Op, output: Out | undefined): string;
}
