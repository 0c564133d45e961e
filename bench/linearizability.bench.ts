/**
 * How fast is the linearizability checker on a realistic run? Goal: a 10,000-operation KV
 * history from 10 concurrent clients over 100 keys checks in well under 1 s, so checks can run
 * at the end of every simulated run and live on the dashboard.
 */
import type { HistoryEntry } from '../src-node-agent/core/history';
import type { KvOp, KvOutput } from '../src-node-agent/stacks/kv/kv-ops';
import { kvModel } from '../src-main/check/kv-model';
import {
  checkLinearizability,
  type LinearizabilityVerdict,
} from '../src-main/check/linearizability';
import { corruptOneGet, randomKvHistory } from '../src-main/check/random-kv-history';

const GOAL_MS = 1000;
/** Fixed by default so numbers are comparable between runs; SEED=n explores others. */
const DEFAULT_SEED = 1;
/** The first run includes JIT warm-up (what a one-shot CLI check pays); the median is steady state. */
const RUNS = 5;

export default async function run(): Promise<void> {
  const seed = process.env.SEED === undefined ? DEFAULT_SEED : Number(process.env.SEED);
  if (!Number.isInteger(seed))
    throw new Error(`SEED must be an integer, got ${String(process.env.SEED)}`);
  console.log(`seed=${String(seed)} (set SEED=n to use another)`);

  const clean = randomKvHistory({ seed, operations: 10_000, clients: 10, keys: 100 });
  measure('10 clients, 100 keys, all ok', clean, 'linearizable');

  const { history: corrupted, opId } = corruptOneGet(clean, seed);
  measure(`same, one get (opId ${String(opId)}) corrupted`, corrupted, 'not-linearizable');

  const faulty = randomKvHistory({
    seed,
    operations: 10_000,
    clients: 10,
    keys: 100,
    unknownRate: 0.02,
    failRate: 0.02,
  });
  measure('10 clients, 100 keys, 2% unknown + 2% fail', faulty, 'linearizable');

  // No P-compositionality to help: every operation in one partition.
  const oneKey = randomKvHistory({ seed, operations: 10_000, clients: 10, keys: 1 });
  measure('10 clients, 1 key (one partition)', oneKey, 'linearizable');
  await Promise.resolve();
}

function measure(
  label: string,
  history: readonly HistoryEntry<KvOp, KvOutput>[],
  expected: LinearizabilityVerdict,
): void {
  const times_ms: number[] = [];
  let verdict: LinearizabilityVerdict = 'unknown';
  let partitions = 0;
  let operations = 0;
  let minimal = '';
  for (let i = 0; i < RUNS; i++) {
    const result = checkLinearizability(history, kvModel);
    times_ms.push(result.elapsed_ms);
    ({ verdict, partitions, operations } = result);
    if (result.failure !== undefined) {
      minimal = `, minimal sub-history ${String(new Set(result.failure.minimalHistory.map((e) => e.opId)).size)} op(s)`;
    }
  }
  if (verdict !== expected) {
    throw new Error(
      `${label}: expected ${expected} but the checker said ${verdict}; the checker is wrong`,
    );
  }
  const cold_ms = times_ms[0] as number;
  const median_ms = [...times_ms].sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
  console.log(
    `${label}: ${String(operations)} ops in ${String(partitions)} partitions → ${verdict}${minimal}; ` +
      `first run ${cold_ms.toFixed(1)} ms, median of ${String(RUNS)} ${median_ms.toFixed(1)} ms; ` +
      `goal < ${String(GOAL_MS)} ms: ${cold_ms < GOAL_MS ? 'met' : 'MISSED'}`,
  );
}
