import type { TimedFault } from '../../src-node-agent/core/faults';
import { describeFault } from '../../src-node-agent/core/faults';
import { formatRecord } from '../../src-node-agent/sim/records';
import { exploreSeeds } from '../explore/explore-seeds';
import { runSeed, type SeedJob, type SeedSummary } from '../explore/seed-job';
import { shrinkSchedule } from '../explore/shrink-schedule';
import { percentile } from './stats';

export interface SimCommandOptions {
  readonly job: SeedJob;
  readonly firstSeed: number;
  readonly seeds: number;
  /** Run exactly this seed and print its details. */
  readonly seed?: number;
  readonly workers?: number;
  readonly tail: number;
  /** Exit 0 only if some seed fails (proves a mutation is caught). */
  readonly expectViolation: boolean;
  readonly print: (line: string) => void;
}

/** `faultlab sim`: many seeded runs, checked; a failure prints its seed, shrunk schedule and log tail. */
export async function simCommand(o: SimCommandOptions): Promise<number> {
  const { print } = o;
  const seeds =
    o.seed !== undefined ? [o.seed] : Array.from({ length: o.seeds }, (_, i) => o.firstSeed + i);
  print(
    `faultlab sim: stack=${o.job.stack} nodes=${o.job.nodes} clients=${o.job.clients} keys=${o.job.keys} ` +
      `seeds=${seeds.length} (${seeds[0]}..${seeds[seeds.length - 1]}) heal=${o.job.heal_ms}ms ` +
      `params=${JSON.stringify(o.job.params)}`,
  );
  const started = performance.now();
  let lastReport = started;
  const summaries = await exploreSeeds({
    job: o.job,
    seeds,
    workers: o.workers,
    stopOnFailure: o.expectViolation,
    onSummary(summary, done, total) {
      if (!summary.verdict.ok)
        print(`  seed ${summary.seed} FAILED: ${summary.verdict.failures[0] ?? ''}`);
      const now = performance.now();
      if (now - lastReport > 5_000) {
        lastReport = now;
        print(`  … ${done}/${total} seeds, ${((now - started) / 1000).toFixed(1)} s`);
      }
    },
  });
  const wall_s = (performance.now() - started) / 1000;
  printSummary(summaries, wall_s, print);
  const failures = summaries.filter((s) => !s.verdict.ok);
  const first = failures[0];
  if (first !== undefined) {
    reportFailure(o, first, print);
  }
  if (o.expectViolation) {
    if (first !== undefined) {
      print(`expected a violation and found one: seed ${first.seed}`);
      return 0;
    }
    print(`expected a violation but all ${summaries.length} seeds passed`);
    return 1;
  }
  return failures.length === 0 ? 0 : 1;
}

function printSummary(
  summaries: readonly SeedSummary[],
  wall_s: number,
  print: (l: string) => void,
): void {
  const passed = summaries.filter((s) => s.verdict.ok).length;
  const faults = new Map<string, number>();
  let deliveries = 0;
  let ops = 0;
  let cpu_ms = 0;
  const net = { droppedLoss: 0, duplicated: 0, reordered: 0, droppedPartition: 0, droppedDown: 0 };
  const lin = new Map<string, number>();
  const recoveries: number[] = [];
  for (const s of summaries) {
    for (const [k, v] of Object.entries(s.faultCounts)) faults.set(k, (faults.get(k) ?? 0) + v);
    deliveries += s.deliveries;
    ops += s.completedOps;
    cpu_ms += s.wall_ms;
    net.droppedLoss += s.network.droppedLoss;
    net.duplicated += s.network.duplicated;
    net.reordered += s.network.reordered;
    net.droppedPartition += s.network.droppedPartition;
    net.droppedDown += s.network.droppedDown;
    lin.set(s.verdict.linearizability, (lin.get(s.verdict.linearizability) ?? 0) + 1);
    if (s.verdict.recovery_ms !== null) recoveries.push(s.verdict.recovery_ms);
  }
  print(
    `seeds: ${summaries.length}, passed ${passed}, failed ${summaries.length - passed}; wall ${wall_s.toFixed(1)} s`,
  );
  const drawn = new Map<string, number>();
  for (const s of summaries)
    for (const [node, b] of Object.entries(s.byzantine ?? {}))
      drawn.set(`${node}=${b}`, (drawn.get(`${node}=${b}`) ?? 0) + 1);
  if (drawn.size > 0) {
    const line = Array.from(drawn.entries())
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    print(`byzantine replicas drawn: ${line}`);
  }
  print(
    `simulated: ${deliveries.toLocaleString('en-US')} message deliveries, ${ops.toLocaleString('en-US')} client ops; ` +
      `${Math.round(deliveries / (cpu_ms / 1000)).toLocaleString('en-US')} deliveries/s per worker`,
  );
  const faultLine = Array.from(faults.entries())
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  print(`faults applied: ${faultLine || 'none'}`);
  print(
    `network faults: lost ${net.droppedLoss}, duplicated ${net.duplicated}, reordered ${net.reordered}, ` +
      `cut by partitions ${net.droppedPartition}, to crashed/paused nodes ${net.droppedDown}`,
  );
  print(
    `linearizability: ${Array.from(lin.entries())
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (recoveries.length > 0) {
    recoveries.sort((a, b) => a - b);
    print(
      `liveness (virtual ms from heal until every client completed a new op): ` +
        `p50 ${percentile(recoveries, 50).toFixed(0)}, p90 ${percentile(recoveries, 90).toFixed(0)}, ` +
        `p99 ${percentile(recoveries, 99).toFixed(0)}, max ${(recoveries[recoveries.length - 1] ?? 0).toFixed(0)} ` +
        `(${recoveries.length}/${summaries.length} runs recovered)`,
    );
  }
}

function reportFailure(o: SimCommandOptions, first: SeedSummary, print: (l: string) => void): void {
  print('');
  print(
    `FAILED seed ${first.seed}; reproduce with: npm run sim -- ${reproduceFlags(o.job)} --seed ${first.seed}`,
  );
  if (first.byzantine !== undefined) print(`  byzantine: ${JSON.stringify(first.byzantine)}`);
  for (const f of first.verdict.failures) print(`  - ${f}`);
  const original = runSeed(o.job, first.seed).result;
  if (original === null) {
    if (first.error !== undefined) print(first.error);
    return;
  }
  const stillFails = (schedule: readonly TimedFault[]): boolean =>
    !runSeed(o.job, first.seed, schedule).summary.verdict.ok;
  const shrunk = shrinkSchedule(original.schedule, stillFails);
  print(
    `shortest failing fault schedule (${shrunk.schedule.length} of ${original.schedule.length} faults, ` +
      `${shrunk.runs} re-runs):`,
  );
  for (const f of shrunk.schedule)
    print(`  ${String(f.at_ms).padStart(6)} ms  ${describeFault(f.fault)}`);
  const rerun = runSeed(o.job, first.seed, shrunk.schedule);
  const log = rerun.result?.log ?? original.log;
  print(`tail of the event log (last ${o.tail} of ${log.length} records, shrunk schedule):`);
  for (const r of log.slice(-o.tail)) print(`  ${formatRecord(r)}`);
}

/** The flags that rebuild exactly this job: every field of SeedJob, so a seed reproduces. */
export function reproduceFlags(job: SeedJob): string {
  const params = JSON.stringify(job.params);
  return (
    `--stack ${job.stack} --nodes ${job.nodes} --clients ${job.clients} --keys ${job.keys} --heal-ms ${job.heal_ms} ` +
    `--liveness-ms ${job.livenessBound_ms} --think-ms ${job.thinkTime_ms}` +
    (job.validateMessages ? ' --validate' : '') +
    (params !== '{}' ? ` --params '${params}'` : '') +
    (job.byzantine === 'random' ? ' --byzantine random' : '') +
    (job.nemesisKinds !== undefined ? ` --faults ${job.nemesisKinds.join(',')}` : '')
  );
}
