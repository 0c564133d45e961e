/**
 * Runs benchmarks: `tsx bench/run.ts [name...]`. A benchmark is a file `bench/<name>.bench.ts`
 * whose default export is `async function run(): Promise<void>`; with no names, all of them
 * run, in name order, one after another (never in parallel: they would skew each other's times).
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SUFFIX = '.bench.ts';

async function main(args: readonly string[]): Promise<number> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const available = (await readdir(dir))
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
  if (args.includes('--help') || args.includes('-h')) {
    console.log(
      `usage: npm run bench [name...]   (no name: all of them, one after another)\n` +
        `benchmarks: ${available.join(', ')}\n` +
        `each prints its figures and goals; see the header comment of bench/<name>${SUFFIX}`,
    );
    return 0;
  }
  // Accept "linearizability", "linearizability.bench.ts" and "bench/linearizability.bench.ts".
  const requested = args.map((arg) => (arg.split('/').pop() ?? arg).replace(SUFFIX, ''));
  const missing = requested.filter((name) => !available.includes(name));
  if (missing.length > 0) {
    console.error(
      `no benchmark named ${missing.join(', ')}; available: ${available.join(', ') || '(none)'} ` +
        `(a benchmark is a file bench/<name>${SUFFIX})`,
    );
    return 2;
  }
  const selected = requested.length > 0 ? [...new Set(requested)] : available;

  let failed = 0;
  for (const name of selected) {
    console.log(`\n=== ${name} ===`);
    const started_ms = performance.now();
    try {
      const module = (await import(pathToFileURL(join(dir, `${name}${SUFFIX}`)).href)) as {
        default?: unknown;
      };
      if (typeof module.default !== 'function') {
        throw new Error(
          `bench/${name}${SUFFIX} must export default async function run(): Promise<void>`,
        );
      }
      await (module.default as () => Promise<void>)();
      console.log(`=== ${name}: done in ${(performance.now() - started_ms).toFixed(0)} ms ===`);
    } catch (error) {
      failed++;
      console.error(`=== ${name}: FAILED ===`);
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
  }
  if (failed > 0)
    console.error(`\n${String(failed)} of ${String(selected.length)} benchmarks failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
