import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { execOn, shellQuote } from './ssh-exec';

/**
 * Upload a file only when the remote copy differs: the remote sha256 (from `sha256sum`) is
 * compared with the local one first, so a second deploy of the same agent bundle sends nothing.
 * The new file is written beside the target and renamed over it, so a reader never sees half a
 * file and an interrupted upload leaves the old one intact.
 */

export interface UploadResult {
  readonly status: 'uploaded' | 'skipped';
  readonly remotePath: string;
  readonly sha256: string;
  readonly bytes: number;
  /** "uploaded 1.2 MB" or "skipped (hash match)": what to tell the user. */
  readonly message: string;
}

export interface UploadOptions {
  /** Unix mode of the uploaded file; default 0o644. */
  readonly mode?: number;
  /** Default 120 s for the transfer. */
  readonly timeoutMs?: number;
}

const HASH_TIMEOUT_MS = 30_000;

export async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The remote file's sha256, or null when it does not exist or cannot be read. */
export async function remoteSha256(
  client: Client,
  remotePath: string,
  where: string,
): Promise<string | null> {
  const result = await execOn(client, `sha256sum -- ${shellQuote(remotePath)}`, where, {
    timeoutMs: HASH_TIMEOUT_MS,
    maxOutputBytes: 4096,
  });
  if (result.code !== 0) return null;
  const hex = /^([0-9a-f]{64})\s/.exec(result.stdout)?.[1];
  return hex ?? null;
}

export async function uploadIfChanged(
  client: Client,
  localPath: string,
  remotePath: string,
  where: string,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const local = await sha256OfFile(localPath);
  const before = await remoteSha256(client, remotePath, where);
  if (before === local.sha256) {
    return {
      status: 'skipped',
      remotePath,
      sha256: local.sha256,
      bytes: 0,
      message: `${where}:${remotePath}: skipped (hash match)`,
    };
  }
  const dir = posix.dirname(remotePath);
  const mkdir = await execOn(client, `mkdir -p -- ${shellQuote(dir)}`, where, {
    timeoutMs: HASH_TIMEOUT_MS,
  });
  if (mkdir.code !== 0) {
    throw new Error(
      `cannot create ${dir} on ${where} for the upload: ${mkdir.stderr.trim()}; check the work dir and its permissions`,
    );
  }
  await uploadFile(client, localPath, remotePath, where, options);
  const after = await remoteSha256(client, remotePath, where);
  if (after !== local.sha256) {
    throw new Error(
      `upload of ${localPath} to ${where}:${remotePath} arrived corrupted: sha256 ${String(after)} there, ${local.sha256} here; try the deploy again`,
    );
  }
  return {
    status: 'uploaded',
    remotePath,
    sha256: local.sha256,
    bytes: local.bytes,
    message: `${where}:${remotePath}: uploaded ${String(local.bytes)} bytes`,
  };
}

/**
 * Send `localPath` to `remotePath` by SFTP alone (no command runs on the host, so no shell
 * startup files either): written beside the target, then renamed over it. The directory must
 * exist. Callers that need the content checked hash it afterwards.
 */
export async function uploadFile(
  client: Client,
  localPath: string,
  remotePath: string,
  where: string,
  options: UploadOptions = {},
): Promise<void> {
  const temp = `${remotePath}.faultlab-upload-${randomBytes(6).toString('hex')}`;
  await withSftp(client, where, options.timeoutMs ?? 120_000, async (sftp) => {
    try {
      await sftpCall<void>((cb) =>
        sftp.fastPut(localPath, temp, { mode: options.mode ?? 0o644 }, cb),
      );
      // posix-rename replaces an existing target atomically (plain SFTP rename refuses to).
      await sftpCall<void>((cb) => sftp.ext_openssh_rename(temp, remotePath, cb));
    } catch (err) {
      await sftpCall<void>((cb) => sftp.unlink(temp, cb)).catch(() => undefined);
      throw new Error(
        `upload of ${localPath} to ${where}:${remotePath} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
}

async function withSftp<T>(
  client: Client,
  where: string,
  timeoutMs: number,
  work: (sftp: SFTPWrapper) => Promise<T>,
): Promise<T> {
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    client.sftp((err, session) => {
      if (err !== undefined && err !== null) {
        reject(
          new Error(
            `cannot open SFTP on ${where}: ${err.message}; the server needs an sftp Subsystem`,
          ),
        );
      } else {
        resolve(session);
      }
    });
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(sftp),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`SFTP on ${where} took longer than ${String(timeoutMs)} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    sftp.end();
  }
}

function sftpCall<T>(
  start: (cb: (err: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => {
      if (err !== undefined && err !== null) reject(err);
      else resolve(value as T);
    });
  });
}
