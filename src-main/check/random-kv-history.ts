import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { HistoryEntry } from '../../src-node-agent/core/history';
import {
  applyKvOp,
  type KvOp,
  type KvOutput,
  type KvValue,
} from '../../src-node-agent/stacks/kv/kv-ops';

/**
 * Linearizable-by-construction KV histories, for testing and benchmarking the checker. Each
 * client runs operations back to back; every operation takes effect at a random instant inside
 * its [invoke, return] interval, and outputs come from applying the operations in the order of
 * those instants. So a correct checker must accept every history this produces, whatever the
 * seed, and `corruptOneGet` turns it into one that no checker may accept.
 */
export interface RandomKvHistoryOptions {
  readonly seed: number;
  readonly operations: number;
  readonly clients: number;
  readonly keys: number;
  /** Fraction of operations whose client gives up (`unknown`); half of those take effect. */
  readonly unknownRate?: number;
  /** Fraction of operations that `fail` and take no effect. */
  readonly failRate?: number;
  /** Operation latency is uniform in [1, max_us]; longer means more overlap between clients. */
  readonly maxLatency_us?: number;
  /** Think time between a client's operations is uniform in [0, max_us]. */
  readonly maxThink_us?: number;
}

/** A get output no operation of these histories can produce: puts write integers or null and appends letters. */
export const NEVER_WRITTEN = '⊥never-written';

const MAX_OPERATIONS = 10_000_000;

interface Planned {
  readonly opId: number;
  readonly process: string;
  readonly op: KvOp;
  readonly invoke_us: number;
  readonly complete_us: number;
  readonly completion: 'ok' | 'fail' | 'unknown';
  /** The instant it takes effect, or -1 when it never does. */
  readonly effect_us: number;
  output: KvOutput;
}

export function randomKvHistory(options: RandomKvHistoryOptions): HistoryEntry<KvOp, KvOutput>[] {
  const { seed, operations, clients, keys } = options;
  for (const [name, value] of [
    ['operations', operations],
    ['clients', clients],
    ['keys', keys],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_OPERATIONS) {
      throw new Error(
        `randomKvHistory: ${name} must be an integer in [1, ${String(MAX_OPERATIONS)}], got ${String(value)}`,
      );
    }
  }
  const unknownPerMille = Math.round((options.unknownRate ?? 0) * 1000);
  const failPerMille = Math.round((options.failRate ?? 0) * 1000);
  const maxLatency_us = options.maxLatency_us ?? 100;
  const maxThink_us = options.maxThink_us ?? 20;
  const rng = xoroshiro128plus(seed);

  const clientFree_us = new Array<number>(clients).fill(0);
  const planned: Planned[] = [];
  for (let opId = 0; opId < operations; opId++) {
    const client = opId % clients;
    const invoke_us = (clientFree_us[client] as number) + uniformInt(rng, 0, maxThink_us);
    const complete_us = invoke_us + uniformInt(rng, 1, maxLatency_us);
    clientFree_us[client] = complete_us;
    const roll = uniformInt(rng, 0, 999);
    const completion =
      roll < failPerMille ? 'fail' : roll < failPerMille + unknownPerMille ? 'unknown' : 'ok';
    const takesEffect =
      completion === 'ok' || (completion === 'unknown' && uniformInt(rng, 0, 1) === 1);
    planned.push({
      opId,
      process: `c${String(client + 1)}`,
      op: randomOp(rng, `k${String(uniformInt(rng, 1, keys))}`),
      invoke_us,
      complete_us,
      completion,
      effect_us: takesEffect ? uniformInt(rng, invoke_us, complete_us) : -1,
      output: null,
    });
  }

  const effective = planned
    .filter((p) => p.effect_us >= 0)
    .sort((a, b) => a.effect_us - b.effect_us || a.opId - b.opId);
  const values = new Map<string, KvValue>();
  for (const p of effective) {
    const { next, output } = applyKvOp(values.get(p.op.key) ?? null, p.op);
    values.set(p.op.key, next);
    p.output = output;
  }

  const events: { time_us: number; completion: boolean; entry: HistoryEntry<KvOp, KvOutput> }[] =
    [];
  for (const p of planned) {
    events.push({
      time_us: p.invoke_us,
      completion: false,
      entry: { type: 'invoke', process: p.process, opId: p.opId, time_us: p.invoke_us, op: p.op },
    });
    events.push({
      time_us: p.complete_us,
      completion: true,
      entry:
        p.completion === 'ok'
          ? {
              type: 'ok',
              process: p.process,
              opId: p.opId,
              time_us: p.complete_us,
              op: p.op,
              output: p.output,
            }
          : {
              type: p.completion,
              process: p.process,
              opId: p.opId,
              time_us: p.complete_us,
              op: p.op,
            },
    });
  }
  // At equal times completions go first, so a client's next invoke never precedes its last completion.
  events.sort(
    (a, b) =>
      a.time_us - b.time_us ||
      Number(b.completion) - Number(a.completion) ||
      a.entry.opId - b.entry.opId,
  );
  return events.map((event) => event.entry);
}

/** Replaces the output of one `ok` get (chosen by `seed`) with a value nothing ever wrote. */
export function corruptOneGet(
  history: readonly HistoryEntry<KvOp, KvOutput>[],
  seed: number,
): { readonly history: HistoryEntry<KvOp, KvOutput>[]; readonly opId: number } {
  const gets = history.flatMap((entry, index) =>
    entry.type === 'ok' && entry.op.f === 'get' ? [index] : [],
  );
  if (gets.length === 0) {
    throw new Error('corruptOneGet: the history has no completed get; generate more operations');
  }
  const index = gets[uniformInt(xoroshiro128plus(seed), 0, gets.length - 1)] as number;
  const corrupted = history.slice();
  const original = history[index] as HistoryEntry<KvOp, KvOutput>;
  corrupted[index] = { ...original, output: NEVER_WRITTEN };
  return { history: corrupted, opId: original.opId };
}

/** Small value domains on purpose: repeated values make many orders look alike, the hard case. */
function randomOp(rng: RandomGenerator, key: string): KvOp {
  const roll = uniformInt(rng, 0, 99);
  if (roll < 40) return { f: 'get', key };
  if (roll < 60) return { f: 'put', key, value: uniformInt(rng, 0, 9) };
  if (roll < 75) {
    const expected = uniformInt(rng, 0, 10);
    return {
      f: 'cas',
      key,
      expected: expected === 10 ? null : expected,
      value: uniformInt(rng, 0, 9),
    };
  }
  if (roll < 90) return { f: 'add', key, delta: uniformInt(rng, 1, 5) };
  return { f: 'append', key, value: String.fromCharCode(97 + uniformInt(rng, 0, 25)) };
}
