/**
 * Wall time of `npm run sim -- --stack paxos --nodes 5 --seeds 1000` (every run checked for
 * agreement, linearizability and liveness) on all cores. Goal: < 60 s on the 2-core machine.
 */
import { availableParallelism } from 'node:os';
import { exploreSeeds } from '../src-main/explore/explore-seeds';
import { defaultSeedJob } from '../src-main/explore/seed-job';

const GOAL_S = 60;

export default async function run(): Promise<void> {
  const seeds = Array.from({ length: 1000 }, (_, i) => i + 1);
  const started = performance.now();
  const summaries = await exploreSeeds({
    job: defaultSeedJob(),
    seeds,
  });
  const wall_s = (performance.now() - started) / 1000;
  const failed = summaries.filter((s) => !s.verdict.ok).length;
  const deliveries = summaries.reduce((sum, s) => sum + s.deliveries, 0);
  console.log(
    `1000 seeds on ${availableParallelism()} cores: ${wall_s.toFixed(1)} s wall ` +
      `(goal < ${GOAL_S} s: ${wall_s < GOAL_S ? 'met' : 'NOT met'}); ${failed} failed; ` +
      `${deliveries.toLocaleString('en-US')} deliveries simulated`,
  );
}
