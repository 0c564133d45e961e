/**
 * Multi-Paxos on real processes, 3 replicas on loopback (local testbed), closed-loop clients:
 * throughput and latency at 1, 16 and 128 concurrent clients, in memory and with durability
 * (fsync with group commit); and leader failover time (SIGKILL the leader, 10 ms heartbeats,
 * 100 ms election timeout). Goals: ≥ 30k ops/s batched; p50 ≤ 0.5 ms with one client;
 * ≥ 10k ops/s durable; failover ≤ 150 ms median over 5 trials.
 */
import { readRecording } from '../src-main/record/recording-reader';
import { runOnLocalTestbed } from '../src-main/orchestrator/quick-run';
import { fixedFault, type RunPlan } from '../src-main/orchestrator/run-plan';
import { percentile } from '../src-main/cli/stats';

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 6_000);
const WARMUP_MS = 1_500;

function plan(
  clients: number,
  durability: RunPlan['durability'],
  extra: Partial<RunPlan> = {},
): RunPlan {
  return {
    name: `bench-paxos-${clients}c-${durability}`,
    stack: 'paxos',
    params: { heartbeat_ms: 10, electionTimeout_ms: 100, maxBatch: 256, maxInFlight: 8 },
    nodes: 3,
    duration_ms: DURATION_MS,
    seed: 1,
    workload: {
      clients,
      mode: 'closed',
      thinkTime_ms: 0,
      keys: 1000,
      keyDistribution: 'uniform',
      mix: { get: 50, put: 50 },
      seed: 1,
    },
    faults: [],
    durability,
    lease_ms: 5_000,
    lab: null,
    labPath: null,
    ...extra,
  };
}

async function throughput(clients: number, durability: RunPlan['durability']): Promise<void> {
  const outcome = await runOnLocalTestbed(plan(clients, durability));
  const rec = await readRecording(outcome.runDir);
  const invoked = new Map<number, number>();
  const latencies_us: number[] = [];
  let firstOk = Number.POSITIVE_INFINITY;
  let lastOk = 0;
  for (const h of rec.history) {
    if (h.type === 'invoke') invoked.set(h.opId, h.time_us);
    if (h.type !== 'ok') continue;
    const start = invoked.get(h.opId);
    if (start === undefined || start < WARMUP_MS * 1000) continue;
    latencies_us.push(h.time_us - start);
    firstOk = Math.min(firstOk, h.time_us);
    lastOk = Math.max(lastOk, h.time_us);
  }
  latencies_us.sort((a, b) => a - b);
  const seconds = (lastOk - firstOk) / 1e6;
  const opsPerSecond = seconds > 0 ? latencies_us.length / seconds : 0;
  console.log(
    `${durability.padEnd(6)} ${String(clients).padStart(3)} clients: ${Math.round(opsPerSecond).toLocaleString('en-US').padStart(7)} ops/s, ` +
      `p50 ${(percentile(latencies_us, 50) / 1000).toFixed(3)} ms, p99 ${(percentile(latencies_us, 99) / 1000).toFixed(3)} ms ` +
      `(${latencies_us.length} ops after ${WARMUP_MS} ms warm-up)`,
  );
}

async function failover(trial: number): Promise<number | null> {
  const outcome = await runOnLocalTestbed(
    plan(8, 'memory', {
      name: 'bench-paxos-failover',
      duration_ms: 4_000,
      faults: [
        {
          ...fixedFault(2_000, { type: 'crash', node: 'n1' }, 'script'),
          label: 'crash the leader',
        },
      ],
    }),
  );
  const rec = await readRecording(outcome.runDir);
  const kill = rec.records.find(
    (r) => r.type === 'fault' && r.phase === 'applied' && r.fault.type === 'crash',
  );
  if (kill === undefined) return null;
  const firstCommit = rec.records.find(
    (r) =>
      r.type === 'protocol' &&
      r.event.kind === 'committed' &&
      r.node !== 'n1' &&
      r.t_ms > kill.t_ms,
  );
  const ms = firstCommit === undefined ? null : firstCommit.t_ms - kill.t_ms;
  console.log(
    `failover trial ${trial}: ${ms === null ? 'no commit after the kill' : `${ms.toFixed(1)} ms`}`,
  );
  return ms;
}

export default async function run(): Promise<void> {
  console.log(`3 replicas + 1 workload agent on loopback, ${DURATION_MS} ms per point`);
  for (const durability of ['memory', 'fsync'] as const) {
    for (const clients of [1, 16, 128]) await throughput(clients, durability);
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
