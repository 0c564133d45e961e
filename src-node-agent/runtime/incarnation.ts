import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const INCARNATION_FILE = 'incarnation';

/**
 * Bump and persist `<workDir>/incarnation`: every start of an agent on a work dir gets a
 * new number, so event seqs, client ids and histories of two runs of the process never
 * mix. Written to a temp file, fsynced and renamed (then the directory fsynced), so a
 * crash leaves the old number or the new one, never a torn one.
 */
export function nextIncarnation(workDir: string): number {
  const path = join(workDir, INCARNATION_FILE);
  let previous = 0;
  try {
    const text = readFileSync(path, 'utf8').trim();
    previous = Number(text);
    if (!Number.isSafeInteger(previous) || previous < 0) {
      throw new Error(
        `${path} holds "${text.slice(0, 40)}", not a non-negative integer; remove it to reset`,
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const next = previous + 1;
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${next}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(workDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return next;
}
