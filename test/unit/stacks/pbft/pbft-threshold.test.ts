import { describe, expect, it } from 'vitest';
import { defaultSeedJob, runSeed, type SeedJob } from '../../../../src-main/explore/seed-job';
import { testSeed } from './pbft-sim';

/**
 * "Why 3f+1" (issue 6, acceptance item 2), through the path `npm run sim` takes (runSeed and
 * its verdict): with two colluding Byzantine replicas of four the checkers find a safety
 * violation, print its seed, and the test asserts they do; the same two at n = 7 are masked.
 */
function job(nodes: number, byzantine: Record<string, string>): SeedJob {
  return defaultSeedJob({ stack: 'pbft', nodes, params: { byzantine } });
}

/** The first of `count` seeds from `first` whose run violates safety, with its failures. */
function firstViolation(j: SeedJob, first: number, count: number) {
  for (let seed = first; seed < first + count; seed++) {
    const { summary } = runSeed(j, seed);
    if (!summary.verdict.ok) {
      const params = JSON.stringify(j.params);
      console.log(
        `violation at seed=${seed}; reproduce with: npm run sim -- --stack pbft --nodes ${j.nodes} ` +
          `--params '${params}' --seed ${seed}\n  ${summary.verdict.failures.join('\n  ')}`,
      );
      return { seed, failures: summary.verdict.failures };
    }
  }
  return null;
}

describe('why 3f+1: two Byzantine replicas of four break PBFT (npm run sim --expect-violation)', () => {
  it('two colluding liars at n = 4 make a client accept a wrong result: the history is not linearizable', () => {
    // f+1 = 2 matching replies convince a client; two liars send the same wrong one.
    const found = firstViolation(
      job(4, { n2: 'lie', n3: 'lie' }),
      testSeed(1, 'two liars, n=4'),
      5,
    );
    expect(found).not.toBeNull();
    expect(found?.failures.join('\n')).toMatch(/linearizability/);
  });

  it('an equivocating primary and a lying backup at n = 4 make correct replicas execute different requests', () => {
    const found = firstViolation(
      job(4, { n1: 'equivocate', n2: 'lie' }),
      testSeed(1, 'equivocator and liar, n=4'),
      5,
    );
    expect(found).not.toBeNull();
    expect(found?.failures.join('\n')).toMatch(/agreement|correct-replicas-same-executed-prefix/);
  });

  it('the same two liars among seven replicas (f = 2) are masked: the run is safe and live', () => {
    const seed = testSeed(1, 'two liars, n=7');
    // Shorter than the default run (heal at 1 s, two clients): n = 7 costs more per op.
    const { summary } = runSeed(
      { ...job(7, { n2: 'lie', n3: 'lie' }), heal_ms: 1_000, clients: 2 },
      seed,
    );
    expect(summary.verdict.failures).toEqual([]);
    expect(summary.verdict.ok).toBe(true);
  });
});
