import type { WorkloadSpec } from '../../src-node-agent/control/workload-spec';
import type { Fault } from '../../src-node-agent/core/faults';
import type { FaultWorld } from '../labs/resolve-lab-fault';
import type { FaultSource } from './fault-controller';

/** What a symbolic fault target (leader, random, last-crashed) needs to become a node. */
export type ClusterView = FaultWorld;

export interface ScheduledFault {
  readonly at_ms: number;
  readonly source: FaultSource;
  /** Text for logs before resolution, e.g. "crash leader". */
  readonly label: string;
  /** The concrete fault at application time, or why it cannot fire now (e.g. no leader known). */
  resolve(cluster: ClusterView): Fault | string;
}

/** Everything the orchestrator needs to run one experiment; built from a lab file. */
export interface RunPlan {
  readonly name: string;
  readonly stack: string;
  readonly params: unknown;
  readonly nodes: number;
  readonly duration_ms: number;
  readonly seed: number;
  readonly workload: WorkloadSpec;
  readonly faults: readonly ScheduledFault[];
  readonly durability: 'fsync' | 'write' | 'memory';
  /** Dead-man lease of every agent. */
  readonly lease_ms: number;
  /** Stored in run.json so a run can be re-checked and re-executed. */
  readonly lab: unknown;
  readonly labPath: string | null;
  /**
   * Agents report every message sent, received or dropped (rate-bounded per node) so the
   * dashboard can draw a space-time diagram; null: off (tracing costs throughput).
   */
  readonly traceMessages: { readonly maxPerSecond: number } | null;
}

/** A fault with a fixed target (replay, explicit scripts). */
export function fixedFault(at_ms: number, fault: Fault, source: FaultSource): ScheduledFault {
  return { at_ms, source, label: JSON.stringify(fault), resolve: () => fault };
}
