import type { NodeId } from './ids';

/**
 * One entry of a client history, Jepsen style. Every operation appears as an `invoke`
 * followed by exactly one of:
 * - `ok`: it happened, with this output;
 * - `fail`: it certainly did not happen;
 * - `unknown`: the client gave up or the run ended; it may or may not have happened.
 * Times are microseconds on one clock (virtual in the simulator, normalized on testbeds).
 */
export interface HistoryEntry<Op = unknown, Out = unknown> {
  readonly type: 'invoke' | 'ok' | 'fail' | 'unknown';
  /** The client (process) that ran the operation; a client runs one operation at a time. */
  readonly process: NodeId;
  /** Unique per history; the invoke and its completion share it. */
  readonly opId: number;
  readonly time_us: number;
  readonly op: Op;
  /** Present on `ok`. */
  readonly output?: Out;
}
