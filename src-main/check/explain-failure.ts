import type { Operation } from './history-operations';
import type { Model } from './model';
import { searchLinearization, type SearchOutcome } from './wgl-search';

/** An explanation search on a minimal history is tiny; give it time even if the budget is spent. */
const EXPLANATION_FLOOR_MS = 50;
/** Explanations list at most this many operations, so a huge failing partition stays readable. */
const MAX_EXPLAINED_OPERATIONS = 20;

function describeOperation<State, Op, Out>(
  operation: Operation<Op, Out>,
  model: Model<State, Op, Out>,
): string {
  const returned =
    operation.return_us === Number.POSITIVE_INFINITY
      ? 'outcome unknown'
      : `returned ${String(operation.return_us)} µs`;
  return `#${String(operation.opId)} ${operation.process} ${model.describeOp(operation.op, operation.output)} (invoked ${String(operation.invoke_us)} µs, ${returned})`;
}

/**
 * Names the operations and shows where every order breaks: the longest legal order the search
 * found, the state it leaves, and why none of the operations allowed next can take effect.
 */
export function explainFailure<State, Op, Out>(
  partition: string,
  operations: readonly Operation<Op, Out>[],
  model: Model<State, Op, Out>,
  deadline_ms: number,
): string {
  const where = `on partition ${JSON.stringify(partition)}`;
  const lines = [
    operations.length === 1
      ? `This operation ${where} cannot take effect in the ${model.name} model:`
      : `No order of these ${String(operations.length)} operations ${where} respects both real time and the ${model.name} model:`,
  ];
  const byInvoke = [...operations].sort((a, b) => a.invoke_us - b.invoke_us);
  for (const operation of byInvoke.slice(0, MAX_EXPLAINED_OPERATIONS)) {
    lines.push(`  ${describeOperation(operation, model)}`);
  }
  if (byInvoke.length > MAX_EXPLAINED_OPERATIONS) {
    lines.push(`  … and ${String(byInvoke.length - MAX_EXPLAINED_OPERATIONS)} more`);
  }
  const outcome: SearchOutcome = searchLinearization(operations, model, {
    deadline_ms: Math.max(deadline_ms, performance.now() + EXPLANATION_FLOOR_MS),
    trace: true,
  });
  if (outcome.kind !== 'not-linearizable') {
    lines.push('(The search ran out of time before it could show the longest legal order.)');
    return lines.join('\n');
  }

  let state = model.init();
  const placed = new Set<number>();
  for (const index of outcome.deepest) {
    const operation = operations[index] as Operation<Op, Out>;
    // Replaying the search's own path: every step on it was legal.
    state = model.step(state, operation.op, operation.output) as State;
    placed.add(index);
  }
  if (placed.size === 0) {
    lines.push('No operation can take effect first:');
  } else {
    const order = outcome.deepest.map(
      (index) => `#${String((operations[index] as Operation<Op, Out>).opId)}`,
    );
    lines.push(
      `The longest legal order found is ${order.join(', ')}, leaving state ${model.stateKey(state)}; after it:`,
    );
  }
  const remaining = operations.filter((_, index) => !placed.has(index));
  const firstReturn = remaining.reduce<Operation<Op, Out> | null>(
    (best, operation) => (best === null || operation.return_us < best.return_us ? operation : best),
    null,
  );
  const shown = remaining.slice(0, MAX_EXPLAINED_OPERATIONS);
  for (const operation of shown) {
    const label = `#${String(operation.opId)} ${model.describeOp(operation.op, operation.output)}`;
    if (firstReturn !== null && operation.invoke_us > firstReturn.return_us) {
      lines.push(
        `  ${label} cannot go next: it was invoked after #${String(firstReturn.opId)} returned, so it must follow #${String(firstReturn.opId)}`,
      );
    } else if (model.step(state, operation.op, operation.output) === null) {
      lines.push(`  ${label} is impossible in state ${model.stateKey(state)}`);
    } else {
      lines.push(`  ${label} could go next, but every continuation fails`);
    }
  }
  if (remaining.length > shown.length) {
    lines.push(`  … and ${String(remaining.length - shown.length)} more`);
  }
  return lines.join('\n');
}
