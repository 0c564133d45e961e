import { open, rename, unlink } from 'node:fs/promises';
import { RecordingFileError } from './file-errors';

let tmpCounter = 0;

/**
 * Replace `path` with `value` as pretty JSON so that a reader (or a crash) sees either the old
 * file or the new one, never half of one: write a temporary file beside it, fsync, rename.
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  tmpCounter++;
  const tmp = `${path}.tmp-${String(process.pid)}-${String(tmpCounter)}`;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  try {
    const handle = await open(tmp, 'w', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new RecordingFileError(err, 'writing', path);
  }
}
