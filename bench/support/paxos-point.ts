import { readFileSync } from 'node:fs';
import { percentile } from '../../src-main/cli/stats';
import { runOnLocalTestbed } from '../../src-main/orchestrator/quick-run';
import type { RunPlan } from '../../src-main/orchestrator/run-plan';
import { readRecording } from '../../src-main/record/recording-reader';

export interface LoadPoint {
  readonly opsPerSecond: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly ops: number;
  /**
   * CPU time (user + system) of the agent processes per operation of the whole run, start-up
   * included: on a shared machine a steadier measure of cost than throughput. Linux only.
   */
  readonly agentCpu_us_per_op?: number;
}

/** CPU time of this process's reaped children (the agents, once stopped), in µs; null off Linux. */
function childrenCpu_us(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[13]) + Number(fields[14]); // cutime + cstime, 1/100 s
    return Number.isFinite(ticks) ? ticks * 10_000 : null;
  } catch {
    return null;
  }
}

export const WARMUP_MS = 1_500;

/** 3 Multi-Paxos replicas + a workload agent on the local testbed, no faults. */
export function benchPlan(
  clients: number,
  durability: RunPlan['durability'],
  duration_ms: number,
  extra: Partial<RunPlan> = {},
): RunPlan {
  return {
    name: `bench-paxos-${clients}c-${durability}`,
    stack: 'paxos',
    params: { heartbeat_ms: 10, electionTimeout_ms: 100, maxBatch: 256, maxInFlight: 8 },
    nodes: 3,
    duration_ms,
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
    traceMessages: null,
    lab: null,
    labPath: null,
    ...extra,
  };
}

/** Throughput and latency of one plan, from its recorded history, after the warm-up. */
export async function measurePaxos(plan: RunPlan): Promise<LoadPoint> {
  const cpuBefore = childrenCpu_us();
  const outcome = await runOnLocalTestbed(plan);
  const cpuAfter = childrenCpu_us();
  const rec = await readRecording(outcome.runDir);
  let completed = 0;
  const invoked = new Map<number, number>();
  const latencies_us: number[] = [];
  let firstOk = Number.POSITIVE_INFINITY;
  let lastOk = 0;
  for (const h of rec.history) {
    if (h.type === 'invoke') invoked.set(h.opId, h.time_us);
    if (h.type !== 'ok') continue;
    completed++;
    const start = invoked.get(h.opId);
    if (start === undefined || start < WARMUP_MS * 1000) continue;
    latencies_us.push(h.time_us - start);
    firstOk = Math.min(firstOk, h.time_us);
    lastOk = Math.max(lastOk, h.time_us);
  }
  latencies_us.sort((a, b) => a - b);
  const seconds = (lastOk - firstOk) / 1e6;
  return {
    opsPerSecond: seconds > 0 ? latencies_us.length / seconds : 0,
    p50_ms: percentile(latencies_us, 50) / 1000,
    p99_ms: percentile(latencies_us, 99) / 1000,
    ops: latencies_us.length,
    ...(cpuBefore === null || cpuAfter === null || completed === 0
      ? {}
      : { agentCpu_us_per_op: (cpuAfter - cpuBefore) / completed }),
  };
}

export function formatPoint(label: string, p: LoadPoint): string {
  return (
    `${label}: ${Math.round(p.opsPerSecond).toLocaleString('en-US').padStart(7)} ops/s, ` +
    `p50 ${p.p50_ms.toFixed(3)} ms, p99 ${p.p99_ms.toFixed(3)} ms (${p.ops} ops)` +
    (p.agentCpu_us_per_op === undefined
      ? ''
      : `, agents ${Math.round(p.agentCpu_us_per_op)} µs CPU/op incl. start-up`)
  );
}
