import { Worker } from 'node:worker_threads';
import type { CheckReport } from '../../record/schema';
import { checkRunDir } from './check-run-dir';

/**
 * The end-of-run checks (reading the whole recording, the linearizability search with its
 * 10 s budget) would stall every page and terminal the server feeds; under tsx (`faultlab
 * serve`) they run in a worker thread. A bundled build (the Electron main is one file, with
 * no worker sibling) checks inline, as `faultlab run` does.
 */
export function checkRunDirOffThread(runDir: string): Promise<CheckReport> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return checkRunDir(runDir);
  const url = new URL('./check-worker.ts', here).href;
  const worker = new Worker(
    `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`,
    { eval: true, workerData: { runDir } },
  );
  return new Promise<CheckReport>((resolve, reject) => {
    worker.once(
      'message',
      (m: { ok: true; report: CheckReport } | { ok: false; message: string }) => {
        if (m.ok) resolve(m.report);
        else reject(new Error(m.message));
        void worker.terminate();
      },
    );
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the check worker for ${runDir} exited with code ${code}`));
    });
  });
}
