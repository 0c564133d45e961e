import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
export const AGENT_BUNDLE_PATH = join(root, 'out', 'agent', 'faultlab-agent.cjs');

async function newestMtime_ms(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime_ms(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/**
 * The single-file agent bundle, rebuilt with scripts/build-agent.mjs when it is missing or
 * older than the agent's sources — so a fresh checkout can run without a manual build.
 */
export async function ensureAgentBundle(): Promise<{ path: string; sha256: string }> {
  const bundleMtime = await stat(AGENT_BUNDLE_PATH).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sourcesMtime = await newestMtime_ms(join(root, 'src-node-agent'));
  if (bundleMtime < sourcesMtime) {
    try {
      await run(process.execPath, [join(root, 'scripts', 'build-agent.mjs')], { cwd: root });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `building the agent bundle failed (scripts/build-agent.mjs): ${e.stderr ?? e.message}. ` +
          'Run `npm run build:agent` to see the full error.',
      );
    }
  }
  const bytes = await readFile(AGENT_BUNDLE_PATH);
  return { path: AGENT_BUNDLE_PATH, sha256: createHash('sha256').update(bytes).digest('hex') };
}
