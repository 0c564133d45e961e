import { parentPort } from 'node:worker_threads';
import { runSeed, type SeedJob } from './seed-job';

/** Worker side of the explorer: runs the seeds it is handed, one summary per seed. */
export type WorkerRequest =
  { readonly job: SeedJob; readonly seed: number } | { readonly stop: true };

const port = parentPort;
if (port === null) throw new Error('seed-worker must run as a worker thread');
port.on('message', (req: WorkerRequest) => {
  if ('stop' in req) {
    port.close();
    return;
  }
  port.postMessage(runSeed(req.job, req.seed).summary);
});
