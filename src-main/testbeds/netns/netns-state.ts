import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ownerIdOf, stateFilePath } from './netns-names';
import { identityOf, isAlive, type ProcessIdentity } from './netns-processes';

const identitySchema = z.object({ pid: z.number().int().positive(), startTime: z.string() });

export const sshdRecordSchema = z
  .object({
    node: z.string(),
    namespace: z.string(),
    configPath: z.string(),
    process: identitySchema,
  })
  .strict();
export type SshdRecord = z.infer<typeof sshdRecordSchema>;

/**
 * What a testbed owns, written BEFORE anything is created and updated as sshds start, so a
 * crash at any point leaves a file naming everything that may exist.
 */
export const netnsStateSchema = z
  .object({
    version: z.literal(1),
    id: z.string(),
    createdAt: z.string(),
    owner: identitySchema,
    /** `faultlab testbed up` exits and leaves the testbed running until `down`. */
    keepAfterOwnerExit: z.boolean(),
    subnet: z.string(),
    bridge: z.string(),
    namespaces: z.array(z.string()),
    veths: z.array(z.string()),
    nftTables: z.array(z.object({ family: z.string(), name: z.string() }).strict()),
    filesDir: z.string(),
    sshd: z.array(sshdRecordSchema),
  })
  .strict();
export type NetnsState = z.infer<typeof netnsStateSchema>;

export async function writeState(runtimeDir: string, state: NetnsState): Promise<void> {
  await mkdir(runtimeDir, { recursive: true, mode: 0o755 });
  const path = stateFilePath(runtimeDir, state.id);
  // Write then rename, so a crash never leaves a torn state file.
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  await rename(tmp, path);
}

export async function readState(runtimeDir: string, id: string): Promise<NetnsState | null> {
  const path = stateFilePath(runtimeDir, id);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = netnsStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(
      `netns testbed: state file ${path} is not valid (${parsed.error.issues[0]?.message ?? 'schema'}); ` +
        'remove it by hand after checking `ip netns list` for namespaces named fl-*',
    );
  }
  return parsed.data;
}

export async function removeState(runtimeDir: string, id: string): Promise<void> {
  await rm(stateFilePath(runtimeDir, id), { force: true });
}

/** Ids of every state file in the runtime dir. */
export async function listStateIds(runtimeDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(runtimeDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.map((n) => ownerIdOf('state-file', n)).filter((id): id is string => id !== null);
}

/**
 * A testbed is live while its owner process runs, or, for a kept testbed, while any of its
 * sshds runs. Everything else is a leftover of a crashed run.
 */
export function isLive(state: NetnsState): boolean {
  if (isAlive(state.owner)) return true;
  return state.keepAfterOwnerExit && state.sshd.some((s) => isAlive(s.process));
}

export function selfIdentity(): ProcessIdentity {
  const me = identityOf(process.pid);
  if (me === null)
    throw new Error('netns testbed: cannot read /proc/self/stat (is /proc mounted?)');
  return me;
}

const LOCK_TIMEOUT_MS = 10_000;
/** A lock file still empty this long after its creation was torn by a crash. */
const TORN_LOCK_AGE_MS = 2_000;

async function ageOf(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * A short exclusive lock over "scan leftovers, pick a subnet, write the state file", so two
 * concurrent `up`s neither pick the same subnet nor remove each other's half-built testbed.
 * A lock whose holder died is taken over.
 */
export async function withRuntimeLock<T>(runtimeDir: string, body: () => Promise<T>): Promise<T> {
  await mkdir(runtimeDir, { recursive: true, mode: 0o755 });
  const lockPath = join(runtimeDir, 'netns.lock');
  const me = selfIdentity();
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: ProcessIdentity | null = null;
    try {
      holder = identitySchema.parse(JSON.parse(await readFile(lockPath, 'utf8')));
    } catch {
      // Being written right now, or torn by a crash: judged on the next pass.
    }
    const tornFor_ms = holder === null ? await ageOf(lockPath) : 0;
    if ((holder !== null && !isAlive(holder)) || tornFor_ms > TORN_LOCK_AGE_MS) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `netns testbed: ${lockPath} is held by process ${holder?.pid ?? '?'} for more than ` +
          `${LOCK_TIMEOUT_MS / 1000} s; if that process is stuck, stop it, or remove the file`,
      );
    }
    await sleep(25);
  }
  try {
    return await body();
  } finally {
    await rm(lockPath, { force: true });
  }
}
