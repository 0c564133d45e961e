import type { Operation } from './history-operations';
import { CACHE_ADDED, CACHE_FULL, LinearizedSet, MemoCache } from './linearized-set';
import type { Model } from './model';

/**
 * The Wing–Gong linearizability search with Lowe's memoization, as in porcupine
 * (github.com/anishathalye/porcupine, checker.go). Call and return entries sit in one list
 * sorted by time; the search repeatedly picks a call that comes before the first pending
 * return, applies it to the model, and "lifts" the operation out of the list. A return entry
 * at the head of the candidates means the operation that returned first has not been placed,
 * so the search backtracks. Lowe's cache of (linearized set, state) prunes every configuration
 * already known to fail, which turns the exponential search into a fast one on real histories.
 */
export type SearchOutcome =
  | {
      readonly kind: 'linearizable';
      /** With `trace`: indices into `operations` in the order found (unknown ones may be absent). */
      readonly order: readonly number[];
    }
  | {
      readonly kind: 'not-linearizable';
      /** With `trace`: indices into `operations` of the longest legal order found. */
      readonly deepest: readonly number[];
      /**
       * Index of the operation the search was stuck on at its deepest dead end: the earliest
       * return it could not place. Usually the culprit (the stale read, the impossible output).
       */
      readonly stuckAt: number;
    }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface SearchOptions {
  /** A `performance.now()` value; the search gives up with `unknown` after it. */
  readonly deadline_ms: number;
  /**
   * Report the order found, or on failure the longest legal order: costs a copy of the stack
   * per new deepest dead end, so it is for small histories and explanations.
   */
  readonly trace: boolean;
}

/** Reading the clock costs far more than a search step, so look at it only this often. */
const CLOCK_CHECK_INTERVAL_STEPS = 1024;
const NONE = -1;

export function searchLinearization<State, Op, Out>(
  operations: readonly Operation<Op, Out>[],
  model: Model<State, Op, Out>,
  options: SearchOptions,
): SearchOutcome {
  const n = operations.length;
  let remainingOk = 0;
  for (const operation of operations) {
    if (operation.return_us !== Number.POSITIVE_INFINITY) remainingOk++;
  }
  // Unknown operations get no return entry: nothing forces them to take effect, so once every
  // ok operation is placed the rest can be left out (they never happened, or happened later).
  if (remainingOk === 0) return { kind: 'linearizable', order: [] };

  const entryCount = n + remainingOk;
  const head = entryCount;
  const entryOp = new Int32Array(entryCount);
  const isCall = new Uint8Array(entryCount);
  const matchOf = new Int32Array(entryCount).fill(NONE);
  const next = new Int32Array(entryCount + 1);
  const prev = new Int32Array(entryCount + 1);
  const isOk = new Uint8Array(n);
  const entryTime = new Float64Array(entryCount);

  let e = 0;
  for (let i = 0; i < n; i++) {
    const operation = operations[i] as Operation<Op, Out>;
    const call = e++;
    entryOp[call] = i;
    isCall[call] = 1;
    entryTime[call] = operation.invoke_us;
    if (operation.return_us !== Number.POSITIVE_INFINITY) {
      const ret = e++;
      entryOp[ret] = i;
      entryTime[ret] = operation.return_us;
      matchOf[call] = ret;
      isOk[i] = 1;
    }
  }
  const order = Array.from({ length: entryCount }, (_, k) => k);
  // Strict real-time order: A precedes B only if A returned before B was invoked, so at equal
  // times calls sort before returns and such operations count as concurrent.
  order.sort(
    (a, b) =>
      (entryTime[a] as number) - (entryTime[b] as number) ||
      (isCall[b] as number) - (isCall[a] as number) ||
      (entryOp[a] as number) - (entryOp[b] as number),
  );
  let last = head;
  for (const k of order) {
    next[last] = k;
    prev[k] = last;
    last = k;
  }
  next[last] = NONE;
  prev[head] = NONE;

  const lift = (call: number): void => {
    const p = prev[call] as number;
    const nx = next[call] as number;
    next[p] = nx;
    if (nx !== NONE) prev[nx] = p;
    const ret = matchOf[call] as number;
    if (ret !== NONE) {
      const rp = prev[ret] as number;
      const rn = next[ret] as number;
      next[rp] = rn;
      if (rn !== NONE) prev[rn] = rp;
    }
  };
  // Dancing links: the lifted entries kept their own pointers, so relinking undoes lift exactly.
  const unlift = (call: number): void => {
    const ret = matchOf[call] as number;
    if (ret !== NONE) {
      next[prev[ret] as number] = ret;
      const rn = next[ret] as number;
      if (rn !== NONE) prev[rn] = ret;
    }
    next[prev[call] as number] = call;
    const nx = next[call] as number;
    if (nx !== NONE) prev[nx] = call;
  };

  const linearized = new LinearizedSet(n);
  const cache = new MemoCache();
  const stackCall = new Int32Array(n);
  const stackState: State[] = new Array<State>(n);
  let depth = 0;
  let stuckDepth = -1;
  let stuckAt = 0;
  let deepest: number[] = [];
  const placedOps = (): number[] => {
    const placed = new Array<number>(depth);
    for (let d = 0; d < depth; d++) placed[d] = entryOp[stackCall[d] as number] as number;
    return placed;
  };

  let state = model.init();
  let entry = next[head] as number;
  let steps = 0;

  while (remainingOk > 0) {
    if (++steps % CLOCK_CHECK_INTERVAL_STEPS === 0 && performance.now() > options.deadline_ms) {
      return {
        kind: 'unknown',
        reason: `time budget ran out after ${String(steps)} search steps over ${String(n)} operations`,
      };
    }
    if (entry !== NONE && isCall[entry] === 1) {
      const i = entryOp[entry] as number;
      const operation = operations[i] as Operation<Op, Out>;
      const nextState = model.step(state, operation.op, operation.output);
      if (nextState !== null) {
        linearized.add(i);
        const added = cache.addIfAbsent(linearized, model.stateKey(nextState));
        if (added === CACHE_ADDED) {
          stackCall[depth] = entry;
          stackState[depth] = state;
          depth++;
          state = nextState;
          remainingOk -= isOk[i] as number;
          lift(entry);
          entry = next[head] as number;
          continue;
        }
        linearized.remove(i);
        if (added === CACHE_FULL) {
          return {
            kind: 'unknown',
            reason: `memoization cache full (${String(cache.size)} configurations over ${String(n)} operations); check a shorter history`,
          };
        }
      }
      entry = next[entry] as number;
    } else {
      // The earliest pending return is not placed yet and nothing else may go first: undo.
      // In a failing search every path ends in such a dead end, so the deepest one is the
      // longest legal order.
      if (depth > stuckDepth && entry !== NONE) {
        stuckDepth = depth;
        stuckAt = entryOp[entry] as number;
        if (options.trace) deepest = placedOps();
      }
      if (depth === 0) return { kind: 'not-linearizable', deepest, stuckAt };
      depth--;
      const call = stackCall[depth] as number;
      state = stackState[depth] as State;
      const i = entryOp[call] as number;
      linearized.remove(i);
      remainingOk += isOk[i] as number;
      unlift(call);
      entry = next[call] as number;
    }
  }
  return { kind: 'linearizable', order: options.trace ? placedOps() : [] };
}
