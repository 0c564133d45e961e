import { createHash } from 'node:crypto';
import type { TimedFault } from '../core/faults';
import type { HistoryEntry } from '../core/history';
import type { AnyStack } from '../core/protocol';
import type { KvOp, KvOutput } from '../stacks/kv/kv-ops';
import { kvWorkload } from './kv-workload';
import type { LinkModel, NetworkStats } from './network';
import { randomSchedule, type NemesisAction } from './nemesis';
import { Prng } from './prng';
import type { SimRecord } from './records';
import { Simulator } from './simulator';

export interface SimRunOptions {
  readonly stack: AnyStack;
  /** Raw stack parameters; parsed (with defaults) by the stack's schema. */
  readonly params?: unknown;
  readonly nodes: number;
  readonly clients?: number;
  readonly keys?: number;
  readonly seed: number;
  /** Faults happen in [faultStart_ms, heal_ms); everything is healed at heal_ms. */
  readonly faultStart_ms?: number;
  readonly heal_ms?: number;
  /** After the heal, how long every client gets to complete a fresh operation. */
  readonly livenessBound_ms?: number;
  /** Pause between one client's operations: less load per run, so more seeds per minute. */
  readonly thinkTime_ms?: number;
  /** An explicit schedule (replay, shrinking); otherwise the seeded nemesis draws one. */
  readonly schedule?: readonly TimedFault[];
  readonly nemesisKinds?: readonly NemesisAction[];
  readonly nemesisInterval_ms?: number;
  readonly link?: LinkModel;
  readonly validateMessages?: boolean;
  readonly traceMessages?: boolean;
}

export interface LivenessResult {
  readonly heal_ms: number;
  /** Virtual ms from the heal until every client completed an op invoked after it; null = never. */
  readonly recovery_ms: number | null;
}

export interface SimRunResult {
  readonly seed: number;
  readonly schedule: readonly TimedFault[];
  readonly log: readonly SimRecord[];
  readonly history: readonly HistoryEntry<KvOp, KvOutput>[];
  /** sha256 of the event log and the history: the same seed must give the same hash.
   * Computed on demand: exploring thousands of seeds does not need it. */
  hash(): string;
  readonly faultCounts: ReadonlyMap<string, number>;
  readonly network: NetworkStats;
  readonly deliveries: number;
  readonly events: number;
  readonly completedOps: number;
  readonly rejectedInputs: number;
  readonly invariantViolation: string | null;
  readonly liveness: LivenessResult;
  readonly end_ms: number;
}

const LIVENESS_STEP_US = 50_000;

/**
 * One simulated run in two phases, like TigerBeetle's VOPR: a safety phase with faults,
 * then everything heals and a liveness phase measures how long until every client completes
 * a fresh operation. Returns the outputs the checkers need; it does not judge them.
 */
export function runSimulation(options: SimRunOptions): SimRunResult {
  const config = options.stack.configSchema.parse(options.params ?? {});
  const faultStart_ms = options.faultStart_ms ?? 300;
  const heal_ms = options.heal_ms ?? 5_000;
  const livenessBound_ms = options.livenessBound_ms ?? 10_000;
  const sim = new Simulator<KvOp, KvOutput>({
    stack: options.stack,
    config,
    nodes: options.nodes,
    clients: options.clients ?? 4,
    seed: options.seed,
    workload: kvWorkload({ keys: options.keys ?? 5 }),
    thinkTime_us: Math.round((options.thinkTime_ms ?? 0) * 1000),
    link: options.link,
    validateMessages: options.validateMessages,
    traceMessages: options.traceMessages,
    invariantInterval_us: 5_000,
  });
  const schedule =
    options.schedule ??
    randomSchedule(new Prng(options.seed).fork('nemesis'), {
      servers: sim.servers,
      start_ms: faultStart_ms,
      end_ms: heal_ms,
      kinds: options.nemesisKinds,
      meanInterval_ms: options.nemesisInterval_ms,
    });
  sim.scheduleFaults(schedule);
  let events = sim.runUntil(heal_ms * 1000);

  // Liveness phase: run until every client completed an operation invoked after the heal.
  const heal_us = heal_ms * 1000;
  const waiting = new Set(sim.clients);
  let historyScanned = 0;
  const invokedAt = new Map<number, number>();
  let recovery_ms: number | null = null;
  const deadline_us = heal_us + livenessBound_ms * 1000;
  while (sim.now_us < deadline_us && sim.violation === null) {
    events += sim.runUntil(Math.min(deadline_us, sim.now_us + LIVENESS_STEP_US));
    for (; historyScanned < sim.history.length; historyScanned++) {
      const h = sim.history[historyScanned] as HistoryEntry<KvOp, KvOutput>;
      if (h.type === 'invoke') invokedAt.set(h.opId, h.time_us);
      else if (
        h.type === 'ok' &&
        (invokedAt.get(h.opId) ?? -1) >= heal_us &&
        waiting.delete(h.process)
      ) {
        if (waiting.size === 0) recovery_ms = (h.time_us - heal_us) / 1000;
      }
    }
    if (waiting.size === 0) break;
  }
  sim.stopClientsAt(sim.now_us);
  sim.closeHistory();

  return {
    seed: options.seed,
    schedule,
    log: sim.log,
    history: sim.history,
    hash: () => hashRun(sim.log, sim.history),
    faultCounts: sim.faultCounts,
    network: { ...sim.network.stats },
    deliveries: sim.deliveries,
    events,
    completedOps: sim.completedOps(),
    rejectedInputs: sim.rejectedInputs(),
    invariantViolation: sim.violation,
    liveness: { heal_ms, recovery_ms },
    end_ms: sim.now_us / 1000,
  };
}

export function hashRun(log: readonly SimRecord[], history: readonly HistoryEntry[]): string {
  const h = createHash('sha256');
  for (const r of log) h.update(JSON.stringify(r)).update('\n');
  h.update('--history--\n');
  for (const e of history) h.update(JSON.stringify(e)).update('\n');
  return h.digest('hex');
}
