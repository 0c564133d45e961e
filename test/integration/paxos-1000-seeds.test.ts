/**
 * Acceptance: `npm run sim -- --stack paxos --nodes 5 --seeds 1000` passes, with partitions,
 * crashes, recoveries, loss, duplication and reordering all exercised, and every run commits
 * again within the liveness bound after the last fault heals.
 */
import { describe, expect, it } from 'vitest';
import { exploreSeeds } from '../../src-main/explore/explore-seeds';
import { defaultSeedJob } from '../../src-main/explore/seed-job';
import { percentile } from '../../src-main/cli/stats';

const firstSeed = Number(process.env['SEED'] ?? 1);

describe('Multi-Paxos over 1000 simulated seeds', () => {
  it(
    'every seed is safe and live, and every fault kind was exercised',
    { timeout: 300_000 },
    async () => {
      console.log(`seeds ${firstSeed}..${firstSeed + 999} (set SEED=… to start elsewhere)`);
      const summaries = await exploreSeeds({
        job: defaultSeedJob(),
        seeds: Array.from({ length: 1000 }, (_, i) => firstSeed + i),
      });
      const failed = summaries.filter((s) => !s.verdict.ok);
      expect(failed.map((s) => `seed=${s.seed}: ${s.verdict.failures.join('; ')}`)).toEqual([]);

      const faults = new Map<string, number>();
      let lost = 0;
      let duplicated = 0;
      let reordered = 0;
      for (const s of summaries) {
        for (const [k, v] of Object.entries(s.faultCounts)) faults.set(k, (faults.get(k) ?? 0) + v);
        lost += s.network.droppedLoss;
        duplicated += s.network.duplicated;
        reordered += s.network.reordered;
      }
      console.log(
        `faults: ${JSON.stringify(Object.fromEntries(faults))}; lost ${lost}, duplicated ${duplicated}, reordered ${reordered}`,
      );
      for (const kind of [
        'crash',
        'recover',
        'pause',
        'resume',
        'cut',
        'partition isolate',
        'partition halves',
        'partition majority-minority',
        'partition bridge',
        'partition groups',
      ]) {
        expect(faults.get(kind) ?? 0, kind).toBeGreaterThan(10);
      }
      expect(lost).toBeGreaterThan(1000);
      expect(duplicated).toBeGreaterThan(1000);
      expect(reordered).toBeGreaterThan(1000);

      const recoveries = summaries
        .map((s) => s.verdict.recovery_ms as number)
        .sort((a, b) => a - b);
      console.log(
        `liveness after heal (virtual ms): p50 ${percentile(recoveries, 50)}, p99 ${percentile(recoveries, 99)}, max ${recoveries[recoveries.length - 1]}`,
      );
      expect(recoveries[recoveries.length - 1]).toBeLessThan(10_000);
    },
  );
});
