import { parentPort, workerData } from 'node:worker_threads';
import { checkRunDir } from './check-run-dir';

/** Worker thread entry: check one run directory off the server's event loop. */
const { runDir } = workerData as { runDir: string };
checkRunDir(runDir).then(
  (report) => parentPort?.postMessage({ ok: true, report }),
  (err: unknown) =>
    parentPort?.postMessage({
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    }),
);
