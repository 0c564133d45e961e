import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src-node-agent/core/history';
import {
  applyKvOp,
  type KvOp,
  type KvOutput,
  type KvValue,
} from '../../../src-node-agent/stacks/kv/kv-ops';
import { kvModel } from '../../../src-main/check/kv-model';
import { checkLinearizability } from '../../../src-main/check/linearizability';
import { corruptOneGet, randomKvHistory } from '../../../src-main/check/random-kv-history';

type Entry = HistoryEntry<KvOp, KvOutput>;
type Outcome = { readonly ok: KvOutput } | 'fail' | 'unknown' | 'pending';

interface Call {
  readonly process: string;
  readonly op: KvOp;
  readonly invoke_us: number;
  readonly complete_us: number;
  readonly outcome: Outcome;
}

const get = (key: string): KvOp => ({ f: 'get', key });
const put = (key: string, value: KvValue): KvOp => ({ f: 'put', key, value });
const add = (key: string, delta: number): KvOp => ({ f: 'add', key, delta });
const cas = (key: string, expected: KvValue, value: KvValue): KvOp => ({
  f: 'cas',
  key,
  expected,
  value,
});

/** `process` runs `op` from `invoke_us` to `complete_us` and sees `outcome`. */
function call(
  process: string,
  op: KvOp,
  invoke_us: number,
  complete_us: number,
  outcome: Outcome,
): Call {
  return { process, op, invoke_us, complete_us, outcome };
}

/**
 * Turns calls into a history (opIds 1, 2, … in argument order), entries sorted by time. At equal
 * times completions come before invokes (a process may start its next op the instant the last
 * one ends), except an instantaneous op's own completion, which must follow its invoke.
 */
function history(...calls: Call[]): Entry[] {
  const timed: { time_us: number; rank: number; entry: Entry }[] = [];
  calls.forEach((c, index) => {
    const opId = index + 1;
    const base = { process: c.process, opId, op: c.op };
    timed.push({
      time_us: c.invoke_us,
      rank: 1,
      entry: { ...base, type: 'invoke', time_us: c.invoke_us },
    });
    if (c.outcome === 'pending') return;
    const completion: Entry =
      typeof c.outcome === 'object'
        ? { ...base, type: 'ok', time_us: c.complete_us, output: c.outcome.ok }
        : { ...base, type: c.outcome, time_us: c.complete_us };
    const rank = c.complete_us === c.invoke_us ? 2 : 0;
    timed.push({ time_us: c.complete_us, rank, entry: completion });
  });
  timed.sort((a, b) => a.time_us - b.time_us || a.rank - b.rank);
  return timed.map((t) => t.entry);
}

function verdictOf(entries: readonly Entry[]): string {
  return checkLinearizability(entries, kvModel).verdict;
}

function opIdsOf(entries: readonly Entry[]): number[] {
  return [...new Set(entries.map((e) => e.opId))];
}

describe('checkLinearizability over the KV model', () => {
  it('accepts a read that sees a completed write', () => {
    expect(
      verdictOf(
        history(
          call('c1', put('x', 1), 0, 10, { ok: null }),
          call('c2', get('x'), 20, 30, { ok: 1 }),
        ),
      ),
    ).toBe('linearizable');
  });

  it('rejects a stale read after a completed write, and explains it', () => {
    const result = checkLinearizability(
      history(
        call('c1', put('x', 1), 0, 10, { ok: null }),
        call('c2', get('x'), 20, 30, { ok: null }),
      ),
      kvModel,
    );
    expect(result.verdict).toBe('not-linearizable');
    expect(result.failure?.partition).toBe('x');
    expect(result.failure?.explanation).toContain('#2 get(x) → null is impossible in state 1');
    expect(result.failure?.explanation).toContain('The longest legal order found is #1');
  });

  it('lets a read concurrent with a write see either the old or the new value', () => {
    const write = call('c1', put('x', 1), 0, 20, { ok: null });
    expect(verdictOf(history(write, call('c2', get('x'), 5, 15, { ok: null })))).toBe(
      'linearizable',
    );
    expect(verdictOf(history(write, call('c2', get('x'), 5, 15, { ok: 1 })))).toBe('linearizable');
    expect(verdictOf(history(write, call('c2', get('x'), 5, 15, { ok: 2 })))).toBe(
      'not-linearizable',
    );
  });

  it('treats operations that meet at one instant as concurrent (strict real-time order)', () => {
    const write = call('c1', put('x', 1), 0, 10, { ok: null });
    expect(verdictOf(history(write, call('c2', get('x'), 10, 20, { ok: null })))).toBe(
      'linearizable',
    );
    expect(verdictOf(history(write, call('c2', get('x'), 11, 20, { ok: null })))).toBe(
      'not-linearizable',
    );
  });

  it('lets an unknown put explain a later read, but only of its own value', () => {
    const lostAck = call('c1', put('x', 1), 0, 10, 'unknown');
    expect(verdictOf(history(lostAck, call('c2', get('x'), 100, 110, { ok: 1 })))).toBe(
      'linearizable',
    );
    expect(verdictOf(history(lostAck, call('c2', get('x'), 100, 110, { ok: 2 })))).toBe(
      'not-linearizable',
    );
  });

  it('lets an unknown put not have happened at all', () => {
    expect(
      verdictOf(
        history(
          call('c1', put('x', 1), 0, 10, 'unknown'),
          call('c2', get('x'), 100, 110, { ok: null }),
        ),
      ),
    ).toBe('linearizable');
  });

  it('treats an invoke the history never completed like an unknown outcome', () => {
    const pending = call('c1', put('x', 1), 0, 0, 'pending');
    expect(verdictOf(history(pending, call('c2', get('x'), 100, 110, { ok: 1 })))).toBe(
      'linearizable',
    );
    expect(verdictOf(history(pending, call('c2', get('x'), 100, 110, { ok: 3 })))).toBe(
      'not-linearizable',
    );
  });

  it('ignores a failed put: it did not happen', () => {
    const failed = call('c1', put('x', 1), 0, 10, 'fail');
    expect(verdictOf(history(failed, call('c2', get('x'), 20, 30, { ok: null })))).toBe(
      'linearizable',
    );
    expect(verdictOf(history(failed, call('c2', get('x'), 20, 30, { ok: 1 })))).toBe(
      'not-linearizable',
    );
  });

  it('follows cas semantics: it swaps exactly when the value matches', () => {
    const one = call('c1', put('x', 1), 0, 10, { ok: null });
    expect(
      verdictOf(
        history(
          one,
          call('c1', cas('x', 1, 2), 20, 30, { ok: true }),
          call('c2', get('x'), 40, 50, { ok: 2 }),
        ),
      ),
    ).toBe('linearizable');
    expect(
      verdictOf(
        history(
          one,
          call('c1', cas('x', 0, 2), 20, 30, { ok: false }),
          call('c2', get('x'), 40, 50, { ok: 1 }),
        ),
      ),
    ).toBe('linearizable');
    // A swap that claims success against the wrong expected value.
    expect(verdictOf(history(one, call('c1', cas('x', 0, 2), 20, 30, { ok: true })))).toBe(
      'not-linearizable',
    );
    // A swap that claims failure although the value matched.
    expect(verdictOf(history(one, call('c1', cas('x', 1, 2), 20, 30, { ok: false })))).toBe(
      'not-linearizable',
    );
    // Two sequential swaps from null cannot both succeed.
    expect(
      verdictOf(
        history(
          call('c1', cas('x', null, 1), 0, 10, { ok: true }),
          call('c2', cas('x', null, 2), 20, 30, { ok: true }),
        ),
      ),
    ).toBe('not-linearizable');
  });

  it('rejects a lost update: two acknowledged concurrent adds, then a read that saw only one', () => {
    const adds = [
      call('c1', add('n', 1), 0, 20, { ok: null }),
      call('c2', add('n', 1), 5, 25, { ok: null }),
    ];
    expect(verdictOf(history(...adds, call('c3', get('n'), 30, 40, { ok: 1 })))).toBe(
      'not-linearizable',
    );
    expect(verdictOf(history(...adds, call('c3', get('n'), 30, 40, { ok: 2 })))).toBe(
      'linearizable',
    );
  });

  it('checks keys as independent partitions and names the failing one', () => {
    const result = checkLinearizability(
      history(
        call('c1', put('x', 1), 0, 10, { ok: null }),
        call('c2', put('y', 1), 0, 10, { ok: null }),
        call('c1', get('x'), 20, 30, { ok: 1 }),
        call('c2', get('y'), 20, 30, { ok: 7 }),
      ),
      kvModel,
    );
    expect(result.verdict).toBe('not-linearizable');
    expect(result.partitions).toBe(2);
    expect(result.failure?.partition).toBe('y');
    expect(opIdsOf(result.failure?.minimalHistory ?? [])).toEqual([4]);
  });

  it('reports a small failing sub-history that is still non-linearizable and 1-minimal', () => {
    const calls: Call[] = [];
    // Forty sequential writes by two alternating clients, interleaved with reads on another key,
    // then a read that still sees the initial value.
    for (let i = 0; i < 40; i++) {
      calls.push(call(`c${String(1 + (i % 2))}`, put('x', i), i * 10, i * 10 + 5, { ok: null }));
      calls.push(call('c4', get('y'), i * 10, i * 10 + 5, { ok: null }));
    }
    calls.push(call('c3', get('x'), 500, 510, { ok: null }));
    calls.push(call('c1', put('x', 99), 520, 530, { ok: null }));
    const result = checkLinearizability(history(...calls), kvModel);
    expect(result.verdict).toBe('not-linearizable');
    const minimal = result.failure?.minimalHistory ?? [];
    const opIds = opIdsOf(minimal);
    // Any one write that completed before the read, and the read, already contradict each other.
    expect(opIds.length).toBeGreaterThanOrEqual(2);
    expect(opIds.length).toBeLessThanOrEqual(3);
    expect(opIds).toContain(81);
    expect(verdictOf(minimal)).toBe('not-linearizable');
    for (const opId of opIds) {
      expect(verdictOf(minimal.filter((e) => e.opId !== opId))).toBe('linearizable');
    }
    expect(result.failure?.explanation).toContain(
      'Removing any one of these operations makes the rest linearizable.',
    );
  });

  it('keeps the write a stale read saw and the write that overwrote it, not the read alone', () => {
    const calls: Call[] = [];
    for (let i = 0; i < 40; i++)
      calls.push(call(`c${String(1 + (i % 2))}`, put('x', i), i * 10, i * 10 + 5, { ok: null }));
    calls.push(call('c3', get('x'), 500, 510, { ok: 20 }));
    const result = checkLinearizability(history(...calls), kvModel);
    expect(result.verdict).toBe('not-linearizable');
    const minimal = result.failure?.minimalHistory ?? [];
    // put 20 (opId 21), one later completed put, and the read: {get → 20} alone would be
    // "minimal" too, but it would hide why the read was stale.
    const opIds = opIdsOf(minimal);
    expect(opIds).toHaveLength(3);
    expect(opIds).toContain(21);
    expect(opIds).toContain(41);
    expect(verdictOf(minimal)).toBe('not-linearizable');
    expect(result.failure?.explanation).toContain(
      "#21 (without it nothing here produces #41's output)",
    );
  });

  it('shrinks a lost update among other operations to the two adds and the read', () => {
    const calls: Call[] = [
      call('c1', get('n'), 0, 5, { ok: null }),
      call('c2', add('m', 3), 0, 5, { ok: null }),
      call('c1', add('n', 1), 10, 30, { ok: null }),
      call('c2', add('n', 1), 12, 32, { ok: null }),
      call('c3', get('n'), 15, 20, { ok: null }),
      call('c3', cas('n', null, 5), 40, 45, { ok: false }),
      call('c1', get('n'), 50, 60, { ok: 1 }),
      call('c2', get('m'), 50, 60, { ok: 3 }),
    ];
    const result = checkLinearizability(history(...calls), kvModel);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.failure?.partition).toBe('n');
    expect(opIdsOf(result.failure?.minimalHistory ?? []).sort((a, b) => a - b)).toEqual([3, 4, 7]);
    expect(verdictOf(result.failure?.minimalHistory ?? [])).toBe('not-linearizable');
  });

  it('returns unknown, not a verdict, when the budget runs out', () => {
    // Thirty concurrent adds of distinct powers of two reach 2^30 distinct (set, sum) pairs, and a
    // read after all of them that saw nothing forces the search to try every one.
    const calls: Call[] = [];
    for (let i = 0; i < 30; i++)
      calls.push(call(`c${String(i + 1)}`, add('n', 2 ** i), i, 1000 + i, { ok: null }));
    calls.push(call('c99', get('n'), 2000, 2010, { ok: 0 }));
    const result = checkLinearizability(history(...calls), kvModel, { budget_ms: 1 });
    expect(result.verdict).toBe('unknown');
    expect(result.unknownReason).toMatch(/partition "n" \(31 operations\): time budget ran out/);
    expect(result.partitionsChecked).toBe(0);
    expect(result.elapsed_ms).toBeLessThan(500);
  });

  it('accepts an empty history', () => {
    expect(checkLinearizability([], kvModel)).toMatchObject({
      verdict: 'linearizable',
      partitions: 0,
      operations: 0,
    });
  });
});

describe('checkLinearizability rejects malformed histories, naming the opId', () => {
  const invoke = (opId: number, process: string, time_us: number): Entry => ({
    type: 'invoke',
    process,
    opId,
    time_us,
    op: get('x'),
  });
  const ok = (opId: number, process: string, time_us: number): Entry => ({
    type: 'ok',
    process,
    opId,
    time_us,
    op: get('x'),
    output: null,
  });

  it('an ok without an invoke', () => {
    expect(() => checkLinearizability([ok(7, 'c1', 5)], kvModel)).toThrow(
      /opId 7 is a completion without an invoke/,
    );
  });

  it('two outstanding operations on one process', () => {
    expect(() => checkLinearizability([invoke(1, 'c1', 0), invoke(2, 'c1', 1)], kvModel)).toThrow(
      /process c1 invoked opId 2 while opId 1 is still outstanding/,
    );
  });

  it('a duplicate opId', () => {
    expect(() =>
      checkLinearizability([invoke(3, 'c1', 0), ok(3, 'c1', 1), invoke(3, 'c2', 2)], kvModel),
    ).toThrow(/duplicate opId 3/);
  });

  it('a second completion of one operation', () => {
    expect(() =>
      checkLinearizability([invoke(4, 'c1', 0), ok(4, 'c1', 1), ok(4, 'c1', 2)], kvModel),
    ).toThrow(/opId 4 is a second completion/);
  });

  it('an ok that carries no output', () => {
    const noOutput: Entry = { type: 'ok', process: 'c1', opId: 5, time_us: 1, op: get('x') };
    expect(() => checkLinearizability([invoke(5, 'c1', 0), noOutput], kvModel)).toThrow(
      /opId 5 has no output/,
    );
  });
});

/**
 * The definition, executed: some subset of the unknown operations plus every ok one, in some
 * order that respects real time, replays legally. Exponential, so only for a handful of ops.
 */
function bruteForceLinearizable(calls: readonly Call[]): boolean {
  const happened = calls.filter((c) => c.outcome !== 'fail');
  const optional = happened.filter((c) => typeof c.outcome !== 'object');
  const returnOf = (c: Call): number =>
    typeof c.outcome === 'object' ? c.complete_us : Number.POSITIVE_INFINITY;
  const replays = (order: readonly Call[]): boolean => {
    let value: KvValue = null;
    for (const c of order) {
      const { next, output } = applyKvOp(value, c.op);
      if (typeof c.outcome === 'object' && c.outcome.ok !== output) return false;
      value = next;
    }
    return true;
  };
  const extend = (order: Call[], rest: readonly Call[]): boolean => {
    if (rest.length === 0) return replays(order);
    return rest.some((candidate, index) => {
      // candidate may go next only if nothing still unplaced returned before it was invoked
      if (rest.some((other) => returnOf(other) < candidate.invoke_us)) return false;
      return extend(
        [...order, candidate],
        rest.filter((_, k) => k !== index),
      );
    });
  };
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const left = happened.filter((c) => {
      const k = optional.indexOf(c);
      return k < 0 || (mask & (1 << k)) !== 0;
    });
    if (extend([], left)) return true;
  }
  return false;
}

/** A few processes running short random ops on one key, with random (often wrong) outputs. */
function tinyRandomHistory(rng: RandomGenerator): Call[] {
  const calls: Call[] = [];
  const processes = uniformInt(rng, 1, 3);
  for (let p = 1; p <= processes; p++) {
    let time_us = uniformInt(rng, 0, 3);
    const count = uniformInt(rng, 1, Math.floor(7 / processes));
    for (let k = 0; k < count; k++) {
      const invoke_us = time_us;
      const complete_us = invoke_us + uniformInt(rng, 0, 4);
      // Strictly later, so an instantaneous op never ties with its process's next invoke.
      time_us = complete_us + uniformInt(rng, 1, 2);
      const roll = uniformInt(rng, 0, 9);
      const value = (): KvValue => {
        const v = uniformInt(rng, 0, 3);
        return v === 3 ? null : v;
      };
      const op: KvOp =
        roll < 4
          ? get('x')
          : roll < 6
            ? put('x', value())
            : roll < 8
              ? add('x', uniformInt(rng, 1, 2))
              : cas('x', value(), value());
      const fate = uniformInt(rng, 0, 9);
      const output: KvOutput =
        op.f === 'get' ? value() : op.f === 'cas' ? uniformInt(rng, 0, 1) === 1 : null;
      const outcome: Outcome = fate === 0 ? 'fail' : fate === 1 ? 'unknown' : { ok: output };
      calls.push(call(`c${String(p)}`, op, invoke_us, complete_us, outcome));
    }
  }
  return calls;
}

describe('checkLinearizability on random histories', () => {
  const seed =
    process.env.SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.SEED);
  console.log(`seed=${String(seed)} (reproduce with SEED=${String(seed)})`);

  it('accepts a generated linearizable history and rejects it once one read is corrupted', () => {
    const generated = randomKvHistory({
      seed,
      operations: 3000,
      clients: 8,
      keys: 20,
      unknownRate: 0.02,
      failRate: 0.02,
    });
    const clean = checkLinearizability(generated, kvModel);
    expect(clean.verdict, `seed=${String(seed)}: ${clean.unknownReason ?? ''}`).toBe(
      'linearizable',
    );
    expect(clean.partitionsChecked).toBe(clean.partitions);

    const { history: corrupted, opId } = corruptOneGet(generated, seed);
    const broken = checkLinearizability(corrupted, kvModel);
    expect(broken.verdict, `seed=${String(seed)}`).toBe('not-linearizable');
    // The corrupted read is impossible in every state, so it alone is the minimal failure.
    expect(opIdsOf(broken.failure?.minimalHistory ?? [])).toEqual([opId]);
  });

  it('agrees with a brute-force search on 500 tiny random histories, and its witnesses fail too', () => {
    const rng = xoroshiro128plus(seed);
    let failing = 0;
    for (let round = 0; round < 500; round++) {
      const calls = tinyRandomHistory(rng);
      const expected = bruteForceLinearizable(calls) ? 'linearizable' : 'not-linearizable';
      const result = checkLinearizability(history(...calls), kvModel);
      expect(result.verdict, `seed=${String(seed)} round ${String(round)}`).toBe(expected);
      if (result.failure !== undefined) {
        failing++;
        expect(verdictOf(result.failure.minimalHistory), `seed=${String(seed)}`).toBe(
          'not-linearizable',
        );
      }
    }
    // The generator must produce both kinds, or this test proves little.
    expect(failing).toBeGreaterThan(50);
    expect(failing).toBeLessThan(450);
  });
});
