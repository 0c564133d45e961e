import type { HistoryEntry } from '../../src-node-agent/core/history';
import { explainFailure } from './explain-failure';
import { collectOperations, type Operation } from './history-operations';
import { minimizeFailure } from './minimize-failure';
import type { Model } from './model';
import { searchLinearization } from './wgl-search';

export const DEFAULT_LINEARIZABILITY_BUDGET_MS = 10_000;

export interface LinearizabilityOptions {
  /** Wall-clock budget for the whole check, minimization included. */
  readonly budget_ms?: number;
}

export type LinearizabilityVerdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface LinearizabilityFailure<Op, Out> {
  readonly partition: string;
  /**
   * The smallest non-linearizable sub-history found (invokes and completions in history order).
   * Removing any one of its operations makes it linearizable, except an operation that is the
   * only source of the culprit's output (kept so the witness shows where a stale value came
   * from); the explanation's last line says which, or that the budget ran out first.
   */
  readonly minimalHistory: HistoryEntry<Op, Out>[];
  readonly explanation: string;
}

export interface LinearizabilityResult<Op, Out> {
  readonly verdict: LinearizabilityVerdict;
  readonly partitions: number;
  /** Partitions the search decided (linearizable or not) before the budget ran out. */
  readonly partitionsChecked: number;
  /** Operations that may have happened: ok and unknown ones (failed ones are left out). */
  readonly operations: number;
  readonly elapsed_ms: number;
  readonly failure?: LinearizabilityFailure<Op, Out>;
  readonly unknownReason?: string;
}

/** The partition name used when the model does not partition its operations. */
export const WHOLE_HISTORY_PARTITION = '*';

/**
 * Is `history` linearizable with respect to `model`? Jepsen-style semantics: `fail` operations
 * never happened; `unknown` ones (and invokes the history never completed) may have taken effect
 * at any time after their invoke, or not at all. Each partition of the model is checked on its
 * own (P-compositionality), smallest first, so one huge partition cannot starve the others.
 *
 * Throws when the history is malformed (a completion without invoke, a duplicate opId, two
 * outstanding operations on one process): such a history has no meaning to judge.
 */
export function checkLinearizability<State, Op, Out>(
  history: readonly HistoryEntry<Op, Out>[],
  model: Model<State, Op, Out>,
  options: LinearizabilityOptions = {},
): LinearizabilityResult<Op, Out> {
  const started_ms = performance.now();
  const budget_ms = options.budget_ms ?? DEFAULT_LINEARIZABILITY_BUDGET_MS;
  if (!(budget_ms > 0) || !Number.isFinite(budget_ms)) {
    throw new Error(
      `linearizability budget_ms must be a positive finite number, got ${String(budget_ms)}`,
    );
  }
  const deadline_ms = started_ms + budget_ms;
  const { operations } = collectOperations(history);
  const partitions = partitionOperations(operations, model);

  let checked = 0;
  const undecided: string[] = [];
  for (const [name, ops] of partitions) {
    if (performance.now() > deadline_ms) {
      undecided.push(
        `partition ${JSON.stringify(name)} (${String(ops.length)} operations): not started, time budget spent`,
      );
      continue;
    }
    const outcome = searchLinearization(ops, model, { deadline_ms, trace: false });
    if (outcome.kind === 'unknown') {
      undecided.push(
        `partition ${JSON.stringify(name)} (${String(ops.length)} operations): ${outcome.reason}`,
      );
      continue;
    }
    checked++;
    if (outcome.kind === 'not-linearizable') {
      const minimal = minimizeFailure(
        ops,
        ops[outcome.stuckAt] as Operation<Op, Out>,
        model,
        deadline_ms,
      );
      const explanation = explainFailure(name, minimal.operations, model, deadline_ms);
      return {
        verdict: 'not-linearizable',
        partitions: partitions.size,
        partitionsChecked: checked,
        operations: operations.length,
        elapsed_ms: performance.now() - started_ms,
        failure: {
          partition: name,
          minimalHistory: subHistory(history, minimal.operations),
          explanation: `${explanation}\n${minimal.note}`,
        },
      };
    }
  }

  const elapsed_ms = performance.now() - started_ms;
  if (undecided.length === 0) {
    return {
      verdict: 'linearizable',
      partitions: partitions.size,
      partitionsChecked: checked,
      operations: operations.length,
      elapsed_ms,
    };
  }
  const shown = undecided.slice(0, 3).join('; ');
  const more = undecided.length > 3 ? `; and ${String(undecided.length - 3)} more` : '';
  return {
    verdict: 'unknown',
    partitions: partitions.size,
    partitionsChecked: checked,
    operations: operations.length,
    elapsed_ms,
    unknownReason:
      `${String(undecided.length)} of ${String(partitions.size)} partitions undecided after ${elapsed_ms.toFixed(0)} ms ` +
      `(budget ${String(budget_ms)} ms): ${shown}${more}. Raise budget_ms or check a shorter history.`,
  };
}

/**
 * Partitions in ascending size (ties in order of first appearance): cheap ones first. Reads
 * with unknown outcome are left out: they changed nothing and nobody saw what they returned.
 */
function partitionOperations<State, Op, Out>(
  operations: readonly Operation<Op, Out>[],
  model: Model<State, Op, Out>,
): Map<string, Operation<Op, Out>[]> {
  const byName = new Map<string, Operation<Op, Out>[]>();
  for (const operation of operations) {
    if (operation.return_us === Number.POSITIVE_INFINITY && model.readOnly?.(operation.op) === true)
      continue;
    const name = model.partition ? model.partition(operation.op) : WHOLE_HISTORY_PARTITION;
    const ops = byName.get(name);
    if (ops === undefined) byName.set(name, [operation]);
    else ops.push(operation);
  }
  return new Map([...byName].sort((a, b) => a[1].length - b[1].length));
}

function subHistory<Op, Out>(
  history: readonly HistoryEntry<Op, Out>[],
  operations: readonly Operation<Op, Out>[],
): HistoryEntry<Op, Out>[] {
  const indices: number[] = [];
  for (const operation of operations) {
    indices.push(operation.invokeIndex);
    if (operation.completionIndex >= 0) indices.push(operation.completionIndex);
  }
  indices.sort((a, b) => a - b);
  return indices.map((index) => history[index] as HistoryEntry<Op, Out>);
}
