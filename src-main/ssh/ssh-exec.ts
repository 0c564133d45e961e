import type { Client, ClientChannel } from 'ssh2';

/** One remote command's outcome. Output beyond the bound is dropped and flagged. */
export interface ExecResult {
  /** Exit status; null when the command died of a signal. */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when stdout or stderr exceeded `maxOutputBytes` and was cut. */
  readonly truncated: boolean;
}

export interface ExecOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Per stream; default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Written to the command's stdin, then EOF. */
  readonly stdin?: string | Buffer;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** A bounded byte collector: keeps the first `limit` bytes. */
class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Run `command` on `client`; `where` (user@host:port) names the host in errors. */
export function execOn(
  client: Client,
  command: string,
  where: string,
  options: ExecOptions = {},
): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise<ExecResult>((resolve, reject) => {
    let channel: ClientChannel | null = null;
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      finish(() => {
        // Ask the server to kill it (OpenSSH ≥ 7.9 honours the signal request), then close.
        channel?.signal('KILL');
        channel?.close();
        reject(
          new Error(
            `command on ${where} did not finish within ${String(timeoutMs)} ms and was stopped: ${command}`,
          ),
        );
      });
    }, timeoutMs);
    client.exec(command, (err, stream) => {
      if (err !== undefined && err !== null) {
        finish(() =>
          reject(new Error(`cannot run a command on ${where}: ${err.message}: ${command}`)),
        );
        return;
      }
      channel = stream;
      if (settled) {
        stream.close();
        return;
      }
      const stdout = new BoundedOutput(limit);
      const stderr = new BoundedOutput(limit);
      let code: number | null = null;
      let signal: string | null = null;
      stream.on('data', (chunk: Buffer) => stdout.push(chunk));
      stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      stream.on('exit', (exitCode: number | null, exitSignal?: string) => {
        code = exitCode;
        signal = exitSignal ?? null;
      });
      stream.on('close', () => {
        finish(() =>
          resolve({
            code,
            signal,
            stdout: stdout.text(),
            stderr: stderr.text(),
            truncated: stdout.truncated || stderr.truncated,
          }),
        );
      });
      if (options.stdin !== undefined) stream.end(options.stdin);
      else stream.end();
    });
  });
}

/** A single-quoted POSIX shell word: safe for any path or argument. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
