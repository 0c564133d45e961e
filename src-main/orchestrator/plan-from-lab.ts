import type { TimedFault } from '../../src-node-agent/core/faults';
import { randomSchedule } from '../../src-node-agent/sim/nemesis';
import { Prng } from '../../src-node-agent/sim/prng';
import type { LabConfig } from '../labs/lab-schema';
import { resolveLabFault } from '../labs/resolve-lab-fault';
import { fixedFault, type RunPlan, type ScheduledFault } from './run-plan';

export interface PlanOptions {
  readonly labPath: string | null;
  readonly durability?: RunPlan['durability'];
  readonly lease_ms?: number;
  /** Replay: these concrete faults instead of the lab's script and nemesis. */
  readonly replayFaults?: readonly TimedFault[];
  /** Message tracing for the message-flow view; default: on (1,000/s per node) up to 7 replicas. */
  readonly traceMessages?: RunPlan['traceMessages'];
}

/** Above this many replicas a space-time diagram is unreadable and tracing only costs. */
const TRACE_MAX_REPLICAS = 7;
const TRACE_DEFAULT = { maxPerSecond: 1_000 } as const;

/**
 * A lab file's experiment as the orchestrator runs it. Symbolic targets (leader, random,
 * last-crashed) resolve when each fault fires; the seeded nemesis is drawn up front from the
 * lab's seed, so the same lab and seed schedule the same faults.
 */
export function planFromLab(lab: LabConfig, options: PlanOptions): RunPlan {
  const servers = Array.from({ length: lab.nodes }, (_, i) => `n${i + 1}`);
  let faults: ScheduledFault[];
  if (options.replayFaults !== undefined) {
    faults = options.replayFaults.map((f) => fixedFault(f.at_ms, f.fault, 'script'));
  } else {
    faults = lab.faults.map((f) => ({
      at_ms: f.at_ms,
      source: 'script' as const,
      label: `${f.action.type} at ${f.at_ms} ms`,
      resolve: (world) => {
        const r = resolveLabFault(f.action, world);
        return r.ok ? r.fault : r.reason;
      },
    }));
    if (lab.nemesis !== null) {
      const drawn = randomSchedule(new Prng(lab.seed).fork('nemesis'), {
        servers,
        start_ms: lab.nemesis.from_ms,
        end_ms: lab.nemesis.until_ms,
        meanInterval_ms: lab.nemesis.interval_ms,
        kinds: lab.nemesis.kinds,
      });
      faults.push(...drawn.map((f) => fixedFault(f.at_ms, f.fault, 'nemesis')));
    }
    faults.sort((a, b) => a.at_ms - b.at_ms);
  }
  // A fault at or after the end would be applied and healed by the stop within moments, and
  // then judged (progress after it) on a cluster that had no time to recover.
  faults = faults.filter((f) => f.at_ms < lab.duration_ms);
  return {
    name: lab.name,
    stack: lab.stack,
    params: lab.params,
    nodes: lab.nodes,
    duration_ms: lab.duration_ms,
    seed: lab.seed,
    workload: lab.workload,
    faults,
    durability: options.durability ?? 'fsync',
    lease_ms: options.lease_ms ?? 3_000,
    lab,
    labPath: options.labPath,
    traceMessages:
      options.traceMessages !== undefined
        ? options.traceMessages
        : lab.nodes <= TRACE_MAX_REPLICAS
          ? TRACE_DEFAULT
          : null,
  };
}

/** The lab's scripted faults that fall at or after the end of its run (left out of the plan). */
export function scriptedFaultsAfterEnd(lab: LabConfig): LabConfig['faults'] {
  return lab.faults.filter((f) => f.at_ms >= lab.duration_ms);
}
