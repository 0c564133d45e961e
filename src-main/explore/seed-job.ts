import type { TimedFault } from '../../src-node-agent/core/faults';
import type { NemesisAction } from '../../src-node-agent/sim/nemesis';
import { emptyNetworkStats } from '../../src-node-agent/sim/network';
import { runSimulation, type SimRunResult } from '../../src-node-agent/sim/run';
import { getStack } from '../../src-node-agent/stacks';
import { serverIds } from '../../src-node-agent/core/ids';
import { Prng } from '../../src-node-agent/sim/prng';
import { drawByzantine } from '../../src-node-agent/stacks/pbft/byzantine-draw';
import { judgeRun, type RunVerdict } from './judge-run';

/** Everything needed to run one seed; plain data so it can cross a worker boundary. */
export interface SeedJob {
  readonly stack: string;
  readonly params: unknown;
  readonly nodes: number;
  readonly clients: number;
  readonly keys: number;
  readonly heal_ms: number;
  readonly livenessBound_ms: number;
  readonly thinkTime_ms: number;
  readonly validateMessages: boolean;
  readonly nemesisKinds?: readonly NemesisAction[];
  /** PBFT: 'random' draws f Byzantine replicas and behaviours per seed into params.byzantine. */
  readonly byzantine?: 'random';
}

/**
 * The exploration `npm run sim` does by default: 5 replicas, 4 clients on 5 keys (contended),
 * 10 ms think time, faults until 3 s, then 10 s for every client to make progress.
 */
export function defaultSeedJob(overrides: Partial<SeedJob> = {}): SeedJob {
  return {
    stack: 'paxos',
    params: {},
    nodes: 5,
    clients: 4,
    keys: 5,
    heal_ms: 3_000,
    livenessBound_ms: 10_000,
    thinkTime_ms: 10,
    validateMessages: false,
    ...overrides,
  };
}

/** What a worker reports for one seed. */
export interface SeedSummary {
  readonly seed: number;
  readonly verdict: RunVerdict;
  readonly faultCounts: Record<string, number>;
  readonly network: SimRunResult['network'];
  readonly deliveries: number;
  readonly completedOps: number;
  readonly wall_ms: number;
  readonly error?: string;
  /** The Byzantine replicas drawn for this seed (job.byzantine = 'random'). */
  readonly byzantine?: Record<string, string>;
}

/** The seed's parameters: job.params, plus the Byzantine replica drawn from the seed if asked. */
export function seedParams(job: SeedJob, seed: number): unknown {
  if (job.byzantine !== 'random') return job.params;
  const prng = new Prng(seed).fork('byzantine');
  const drawn = drawByzantine(serverIds(job.nodes), (b) => prng.int(b));
  return { ...(job.params as Record<string, unknown>), byzantine: drawn };
}

export function runSeed(
  job: SeedJob,
  seed: number,
  schedule?: readonly TimedFault[],
): { result: SimRunResult | null; summary: SeedSummary } {
  const started = performance.now();
  try {
    const result = runSimulation({
      stack: getStack(job.stack),
      params: seedParams(job, seed),
      nodes: job.nodes,
      clients: job.clients,
      keys: job.keys,
      seed,
      heal_ms: job.heal_ms,
      livenessBound_ms: job.livenessBound_ms,
      thinkTime_ms: job.thinkTime_ms,
      validateMessages: job.validateMessages,
      schedule,
      nemesisKinds: job.nemesisKinds,
    });
    const verdict = judgeRun(result);
    return {
      result,
      summary: {
        seed,
        verdict,
        faultCounts: Object.fromEntries(result.faultCounts),
        network: result.network,
        deliveries: result.deliveries,
        completedOps: result.completedOps,
        wall_ms: performance.now() - started,
        ...(job.byzantine === 'random'
          ? {
              byzantine: (seedParams(job, seed) as { byzantine: Record<string, string> }).byzantine,
            }
          : {}),
      },
    };
  } catch (err) {
    // A thrown stack or simulator error is a failed seed, reported like any other.
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return {
      result: null,
      summary: {
        seed,
        verdict: {
          ok: false,
          failures: [`exception: ${message.split('\n').slice(0, 4).join(' | ')}`],
          linearizability: 'unknown',
          agreementSlots: 0,
          recovery_ms: null,
        },
        faultCounts: {},
        network: emptyNetworkStats(),
        deliveries: 0,
        completedOps: 0,
        wall_ms: performance.now() - started,
        error: message,
      },
    };
  }
}
