/**
 * Multi-Paxos on real processes, 3 replicas on loopback (local testbed), closed-loop clients:
 * throughput and latency at 1, 16 and 128 concurrent clients, in memory and with durability
 * (fsync with group commit); and leader failover time (SIGKILL the current leader, 10 ms
 * heartbeats, 100 ms election timeout). Goals: ≥ 30k ops/s batched; p50 ≤ 0.5 ms with one
 * client; ≥ 10k ops/s durable; failover ≤ 150 ms median over 5 trials.
 */
import { percentile } from '../src-main/cli/stats';
import { runOnLocalTestbed } from '../src-main/orchestrator/quick-run';
import { readRecording } from '../src-main/record/recording-reader';
import { benchPlan, formatPoint, measurePaxos } from './support/paxos-point';

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 6_000);

async function failover(trial: number): Promise<number | null> {
  const plan = benchPlan(8, 'memory', 4_000, {
    name: 'bench-paxos-failover',
    // Clients retry a silent leader after 30 ms (default 150 ms), so the figure measures the
    // election rather than how long a client waits before trying another replica.
    params: {
      heartbeat_ms: 10,
      electionTimeout_ms: 100,
      maxBatch: 256,
      maxInFlight: 8,
      clientRetry_ms: 30,
    },
    faults: [
      {
        at_ms: 2_000,
        source: 'script',
        label: 'crash the leader',
        resolve: (world) =>
          world.leader === null ? 'no leader known' : { type: 'crash', node: world.leader },
      },
    ],
  });
  const rec = await readRecording((await runOnLocalTestbed(plan)).runDir);
  const kill = rec.records.find(
    (r) => r.type === 'fault' && r.phase === 'applied' && r.fault.type === 'crash',
  );
  if (kill === undefined || kill.type !== 'fault' || kill.fault.type !== 'crash') return null;
  const victim = kill.fault.node;
  // The first client request the surviving replicas commit (not a no-op the new leader fills a
  // gap with); the victim's own last commits do not count.
  const firstCommit = rec.records.find(
    (r) =>
      r.type === 'protocol' &&
      r.event.kind === 'committed' &&
      Number(r.event['requests']) > 0 &&
      r.node !== victim &&
      r.t_ms > kill.t_ms,
  );
  const ms = firstCommit === undefined ? null : firstCommit.t_ms - kill.t_ms;
  console.log(
    `failover trial ${trial}: killed leader ${victim}; ${ms === null ? 'no commit after the kill' : `first committed request after ${ms.toFixed(1)} ms`}`,
  );
  return ms;
}

export default async function run(): Promise<void> {
  console.log(`3 replicas + 1 workload agent on loopback, ${DURATION_MS} ms per point`);
  for (const durability of ['memory', 'fsync'] as const) {
    for (const clients of [1, 16, 128]) {
      const point = await measurePaxos(benchPlan(clients, durability, DURATION_MS));
      console.log(
        formatPoint(`${durability.padEnd(6)} ${String(clients).padStart(3)} clients`, point),
      );
    }
  }
  const times: number[] = [];
  for (let trial = 1; trial <= 5; trial++) {
    const ms = await failover(trial);
    if (ms !== null) times.push(ms);
  }
  times.sort((a, b) => a - b);
  console.log(
    `failover median ${percentile(times, 50).toFixed(1)} ms over ${times.length} trials (goal ≤ 150 ms)`,
  );
}
