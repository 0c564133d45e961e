import type { HistoryEntry } from '../../src-node-agent/core/history';
import type { NodeId } from '../../src-node-agent/core/ids';

/**
 * One operation of a history with its invoke and completion paired up. Only operations that
 * may have happened are kept: `ok` ones and `unknown` ones (including invokes the history never
 * completed). `fail` ones certainly did not happen, so they are dropped.
 */
export interface Operation<Op, Out> {
  readonly opId: number;
  readonly process: NodeId;
  readonly op: Op;
  readonly invoke_us: number;
  /** +Infinity when the outcome is unknown: it may take effect at any time after its invoke. */
  readonly return_us: number;
  /** undefined when the outcome is unknown. */
  readonly output: Out | undefined;
  /** Positions in the history array, to hand back sub-histories in their original order. */
  readonly invokeIndex: number;
  /** -1 when the history ends before the operation completes. */
  readonly completionIndex: number;
}

export interface CollectedOperations<Op, Out> {
  /** In invoke order. */
  readonly operations: readonly Operation<Op, Out>[];
  readonly failed: number;
}

interface Outstanding<Op> {
  readonly index: number;
  readonly entry: HistoryEntry<Op, unknown>;
}

function where(index: number, entry: HistoryEntry<unknown, unknown>): string {
  return `history entry ${String(index)} (opId ${String(entry.opId)}, process ${String(entry.process)})`;
}

/**
 * Pairs invokes with completions and rejects malformed histories. A malformed history cannot
 * be judged at all (a dangling `ok` says something happened without saying when it began), so
 * it is an error rather than a verdict.
 */
export function collectOperations<Op, Out>(
  history: readonly HistoryEntry<Op, Out>[],
): CollectedOperations<Op, Out> {
  const outstandingByOpId = new Map<number, Outstanding<Op>>();
  const outstandingByProcess = new Map<NodeId, number>();
  const seenOpIds = new Set<number>();
  const operations: Operation<Op, Out>[] = [];
  let failed = 0;

  history.forEach((entry, index) => {
    if (!Number.isInteger(entry.opId)) {
      throw new Error(`${where(index, entry)}: opId must be an integer`);
    }
    if (!Number.isFinite(entry.time_us)) {
      throw new Error(
        `${where(index, entry)}: time_us is ${String(entry.time_us)}; every entry needs a finite timestamp`,
      );
    }
    if (entry.type === 'invoke') {
      if (seenOpIds.has(entry.opId)) {
        throw new Error(
          `${where(index, entry)}: duplicate opId ${String(entry.opId)}; every operation needs its own opId`,
        );
      }
      const busy = outstandingByProcess.get(entry.process);
      if (busy !== undefined) {
        throw new Error(
          `${where(index, entry)}: process ${entry.process} invoked opId ${String(entry.opId)} while opId ${String(busy)} is still outstanding; ` +
            `a process runs one operation at a time, so record a completion (ok/fail/unknown) for opId ${String(busy)} first`,
        );
      }
      seenOpIds.add(entry.opId);
      outstandingByOpId.set(entry.opId, { index, entry });
      outstandingByProcess.set(entry.process, entry.opId);
      return;
    }
    if (entry.type !== 'ok' && entry.type !== 'fail' && entry.type !== 'unknown') {
      throw new Error(
        `${where(index, entry)}: unknown entry type ${JSON.stringify(entry.type)}; expected invoke, ok, fail or unknown`,
      );
    }
    const invoked = outstandingByOpId.get(entry.opId);
    if (invoked === undefined) {
      const problem = seenOpIds.has(entry.opId)
        ? 'a second completion'
        : 'a completion without an invoke';
      throw new Error(
        `${where(index, entry)}: ${entry.type} for opId ${String(entry.opId)} is ${problem}; ` +
          `each operation is one invoke followed by exactly one ok, fail or unknown`,
      );
    }
    if (invoked.entry.process !== entry.process) {
      throw new Error(
        `${where(index, entry)}: opId ${String(entry.opId)} was invoked by process ${invoked.entry.process} but completed by ${entry.process}; ` +
          `completions must come from the invoking process`,
      );
    }
    if (entry.time_us < invoked.entry.time_us) {
      throw new Error(
        `${where(index, entry)}: opId ${String(entry.opId)} completes at ${String(entry.time_us)} µs, before its invoke at ${String(invoked.entry.time_us)} µs; ` +
          `check the clock normalization of this history`,
      );
    }
    if (entry.type === 'ok' && entry.output === undefined) {
      throw new Error(
        `${where(index, entry)}: ok for opId ${String(entry.opId)} has no output; record the output (null for an acknowledgement)`,
      );
    }
    outstandingByOpId.delete(entry.opId);
    outstandingByProcess.delete(entry.process);
    if (entry.type === 'fail') {
      failed++;
      return;
    }
    operations.push({
      opId: entry.opId,
      process: entry.process,
      op: invoked.entry.op,
      invoke_us: invoked.entry.time_us,
      return_us: entry.type === 'ok' ? entry.time_us : Number.POSITIVE_INFINITY,
      output: entry.type === 'ok' ? entry.output : undefined,
      invokeIndex: invoked.index,
      completionIndex: index,
    });
  });

  // Never completed: the run ended first, so like `unknown` it may or may not have happened.
  for (const { index, entry } of outstandingByOpId.values()) {
    operations.push({
      opId: entry.opId,
      process: entry.process,
      op: entry.op,
      invoke_us: entry.time_us,
      return_us: Number.POSITIVE_INFINITY,
      output: undefined,
      invokeIndex: index,
      completionIndex: -1,
    });
  }
  operations.sort((a, b) => a.invokeIndex - b.invokeIndex);
  return { operations, failed };
}
