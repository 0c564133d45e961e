import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SeedJob, SeedSummary } from './seed-job';
import type { WorkerRequest } from './seed-worker';

export interface ExploreOptions {
  readonly job: SeedJob;
  readonly seeds: readonly number[];
  readonly workers?: number;
  /** Stop handing out seeds after the first failure (the mutation tests want only one). */
  readonly stopOnFailure?: boolean;
  readonly onSummary?: (summary: SeedSummary, done: number, total: number) => void;
}

/**
 * Worker threads under tsx need the loader registered inside the worker; compiled builds
 * load the .js sibling directly.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const url = new URL('./seed-worker.ts', here).href;
    return new Worker(
      `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`,
      { eval: true },
    );
  }
  return new Worker(new URL('./seed-worker.js', here));
}

/** Run many seeds over a pool of worker threads; summaries come back in seed order. */
export async function exploreSeeds(options: ExploreOptions): Promise<SeedSummary[]> {
  const total = options.seeds.length;
  const workerCount = Math.max(1, Math.min(options.workers ?? availableParallelism(), total));
  const summaries: SeedSummary[] = [];
  let next = 0;
  let failed = false;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: workerCount }, () => {
        const worker = startWorker();
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          const feed = (): void => {
            if (next >= total || (failed && options.stopOnFailure === true)) {
              worker.postMessage({ stop: true } satisfies WorkerRequest);
              resolve();
              return;
            }
            const seed = options.seeds[next++] as number;
            worker.postMessage({ job: options.job, seed } satisfies WorkerRequest);
          };
          worker.on('message', (summary: SeedSummary) => {
            summaries.push(summary);
            if (!summary.verdict.ok) failed = true;
            options.onSummary?.(summary, summaries.length, total);
            feed();
          });
          worker.on('error', (err) =>
            reject(new Error(`simulation worker failed: ${err.message}`)),
          );
          worker.on('exit', (code) => {
            if (code !== 0) reject(new Error(`simulation worker exited with code ${code}`));
          });
          feed();
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return summaries.sort((a, b) => a.seed - b.seed);
}
