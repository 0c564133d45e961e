import type { Operation } from './history-operations';
import type { Model } from './model';
import { searchLinearization, type SearchOutcome } from './wgl-search';

export interface MinimizedFailure<Op, Out> {
  /** Still not linearizable; contains the anchor. */
  readonly operations: Operation<Op, Out>[];
  /** One sentence on how minimal it is, for the explanation. */
  readonly note: string;
}

/**
 * Shrinks a non-linearizable partition to a small witness around `anchor`, the operation the
 * search got stuck on (the stale read, the impossible output).
 *
 * Plain greedy removal is a poor witness maker: dropping the write behind any read leaves that
 * read "impossible" on its own, so a stale read of 3 shrinks to the lone "get → 3" and hides the
 * later write that made it stale. So when the anchor's output can occur somewhere in an order of
 * the other operations, shrinking keeps that true and ends with e.g. {put 3, put 9, get → 3}:
 * every operation is needed, for the contradiction or to produce the anchor's output. When the
 * output cannot occur anywhere (a value nobody wrote), the anchor alone is the witness and plain
 * removal finds it.
 */
export function minimizeFailure<State, Op, Out>(
  operations: readonly Operation<Op, Out>[],
  anchor: Operation<Op, Out>,
  model: Model<State, Op, Out>,
  deadline_ms: number,
): MinimizedFailure<Op, Out> {
  // A search the budget cut short decides nothing, so the result is not shown as minimal.
  let undecided = false;
  const search = (ops: readonly Operation<Op, Out>[], trace: boolean): SearchOutcome => {
    const outcome = searchLinearization(ops, model, { deadline_ms, trace });
    if (outcome.kind === 'unknown') undecided = true;
    return outcome;
  };
  const fails = (ops: readonly Operation<Op, Out>[]): boolean =>
    ops.length > 0 && search(ops, false).kind === 'not-linearizable';
  /**
   * A cheap, sufficient test: take the order the search finds for the other operations and
   * look for a point in it where the anchor's output is legal. (The exact test, "some order
   * has such a point", is an exhaustive search whenever the answer is no.)
   */
  const anchorOutputOccurs = (ops: readonly Operation<Op, Out>[]): boolean => {
    const others = ops.filter((op) => op !== anchor);
    const outcome = search(others, true);
    if (outcome.kind !== 'linearizable') return false;
    let state = model.init();
    if (model.step(state, anchor.op, anchor.output) !== null) return true;
    for (const index of outcome.order) {
      const op = others[index] as Operation<Op, Out>;
      state = model.step(state, op.op, op.output) as State; // legal: the search placed it here
      if (model.step(state, anchor.op, anchor.output) !== null) return true;
    }
    return false;
  };

  const contextual = anchorOutputOccurs(operations);
  const keep = contextual
    ? (ops: readonly Operation<Op, Out>[]): boolean => fails(ops) && anchorOutputOccurs(ops)
    : fails;
  const shrunk = shrink(operations, anchor, keep, deadline_ms);
  const cutShort = {
    operations: shrunk.kept,
    note: '(The budget ran out while shrinking this sub-history; it may not be minimal.)',
  };
  if (!shrunk.complete || undecided) return cutShort;
  // Which single removals would still leave a failing history? In contextual mode these are
  // the sources of the anchor's output; the anchor itself may be one too.
  const stillFailsWithout = shrunk.kept.filter(
    (removed) => shrunk.kept.length > 1 && fails(shrunk.kept.filter((op) => op !== removed)),
  );
  if (undecided) return cutShort;
  return { operations: shrunk.kept, note: minimalityNote(stillFailsWithout, anchor) };
}

function minimalityNote<Op, Out>(
  stillFailsWithout: readonly Operation<Op, Out>[],
  anchor: Operation<Op, Out>,
): string {
  if (stillFailsWithout.length === 0)
    return 'Removing any one of these operations makes the rest linearizable.';
  const id = (op: Operation<Op, Out>): string => `#${String(op.opId)}`;
  const sources = stillFailsWithout.filter((op) => op !== anchor);
  const exceptions: string[] = [];
  if (sources.length > 0) {
    exceptions.push(
      `${sources.map(id).join(', ')} (without ${sources.length === 1 ? 'it' : 'them'} nothing here produces ${id(anchor)}'s output)`,
    );
  }
  if (sources.length < stillFailsWithout.length) {
    exceptions.push(`${id(anchor)} (where the search got stuck, kept on purpose)`);
  }
  return `Removing any one of these operations makes the rest linearizable, except ${exceptions.join(' and ')}.`;
}

/**
 * Greedy removal toward a 1-minimal set under `keep`: first chunks (halves, quarters, …, as in
 * delta debugging) to shrink large partitions fast, then single operations. Removal is not
 * monotone (dropping one write can make another removable), so single-removal passes repeat
 * until one changes nothing. `anchor` is never removed.
 */
function shrink<Op, Out>(
  operations: readonly Operation<Op, Out>[],
  anchor: Operation<Op, Out>,
  keep: (ops: readonly Operation<Op, Out>[]) => boolean,
  deadline_ms: number,
): { readonly kept: Operation<Op, Out>[]; readonly complete: boolean } {
  let kept = operations.slice();
  const outOfTime = (): boolean => performance.now() > deadline_ms;

  for (let chunk = Math.floor(kept.length / 2); chunk > 1; chunk = Math.floor(chunk / 2)) {
    for (let start = 0; start < kept.length;) {
      if (outOfTime()) return { kept, complete: false };
      const candidate = kept.filter((op, k) => k < start || k >= start + chunk || op === anchor);
      if (candidate.length < kept.length && keep(candidate)) kept = candidate;
      else start += chunk;
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < kept.length;) {
      if (outOfTime()) return { kept, complete: false };
      const candidate = [...kept.slice(0, i), ...kept.slice(i + 1)];
      if (kept[i] !== anchor && keep(candidate)) {
        kept = candidate;
        changed = true;
      } else {
        i++;
      }
    }
  }
  return { kept, complete: true };
}
