/**
 * Mutation proof: deliberately broken Paxos variants must be caught by the simulator plus the
 * checkers within 1000 seeds. If these ever pass clean, the checks have gone blind.
 */
import { describe, expect, it } from 'vitest';
import { defaultSeedJob, runSeed, type SeedJob } from '../../../src-main/explore/seed-job';

const firstSeed = Number(process.env['SEED'] ?? 1);

function job(mutations: Record<string, unknown>): SeedJob {
  return defaultSeedJob({ params: { mutations } });
}

function firstViolation(j: SeedJob): { seed: number; failures: readonly string[] } | null {
  for (let seed = firstSeed; seed < firstSeed + 1000; seed++) {
    const { summary } = runSeed(j, seed);
    if (!summary.verdict.ok) return { seed, failures: summary.verdict.failures };
  }
  return null;
}

describe('mutation proof', () => {
  it('a quorum of n/2 instead of a majority is caught', () => {
    const found = firstViolation(job({ quorum: 'half' }));
    console.log(`half-quorum: violation at seed=${found?.seed}: ${found?.failures[0]}`);
    expect(found).not.toBeNull();
    expect(found?.failures.join('\n')).toMatch(/agreement|linearizability|invariant/);
  });

  it('a new leader that skips the replay is caught', () => {
    const found = firstViolation(job({ skipReplay: true }));
    console.log(`skip-replay: violation at seed=${found?.seed}: ${found?.failures[0]}`);
    expect(found).not.toBeNull();
    expect(found?.failures.join('\n')).toMatch(/agreement|linearizability|invariant/);
  });

  it('the correct protocol passes the same seeds', () => {
    for (let seed = firstSeed; seed < firstSeed + 20; seed++) {
      const { summary } = runSeed(job({}), seed);
      expect(summary.verdict.failures, `seed=${seed}`).toEqual([]);
    }
  });
});
