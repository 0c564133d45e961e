import type { TimedFault } from '../../src-node-agent/core/faults';

export interface ShrinkResult {
  readonly schedule: readonly TimedFault[];
  readonly runs: number;
}

/**
 * Delta-debugging over a fault schedule: remove chunks (halves, then quarters, … then single
 * faults) while the run still fails, keeping the final heal. Returns the shortest failing
 * schedule found within `maxRuns` re-executions. Faults drawn from separate PRNG streams keep
 * the rest of the run's randomness stable while faults are removed.
 */
export function shrinkSchedule(
  schedule: readonly TimedFault[],
  stillFails: (candidate: readonly TimedFault[]) => boolean,
  maxRuns = 150,
): ShrinkResult {
  const last = schedule[schedule.length - 1];
  const keepLast = last !== undefined && last.fault.type === 'heal-all';
  let body = keepLast ? schedule.slice(0, -1) : schedule.slice();
  const tail = keepLast && last !== undefined ? [last] : [];
  let runs = 0;
  let chunk = Math.max(1, Math.ceil(body.length / 2));
  while (body.length > 0 && runs < maxRuns) {
    let removedAny = false;
    for (let start = 0; start < body.length && runs < maxRuns;) {
      const candidate = [...body.slice(0, start), ...body.slice(start + chunk)];
      runs++;
      if (stillFails([...candidate, ...tail])) {
        body = candidate;
        removedAny = true;
      } else {
        start += chunk;
      }
    }
    if (chunk === 1 && !removedAny) break;
    if (!removedAny || chunk > body.length) chunk = Math.max(1, Math.floor(chunk / 2));
  }
  return { schedule: [...body, ...tail], runs };
}
