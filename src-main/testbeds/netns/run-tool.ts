import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Output kept per stream: the tools we run print a few KB at most (JSON listings included). */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

/** Where Debian puts the network tools; root's PATH has them, a user's PATH often does not. */
const SYSTEM_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The Debian package that provides each tool we need, for the "what to do" of an error. */
const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  tc: 'iproute2',
  nft: 'nftables',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  unshare: 'util-linux',
};

/** A system command that failed: which one, its exit status, its stderr and what to do. */
export class ToolError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    hint: string,
  ) {
    const status = exitCode === null ? 'was killed' : `exited ${exitCode}`;
    const said = stderr.trim() === '' ? '(no stderr)' : stderr.trim();
    super(`${command} ${args.join(' ')} ${status}: ${said}. ${hint}`);
    this.name = 'ToolError';
  }
}

const resolved = new Map<string, string>();

/** The absolute path of a system tool; an actionable error naming its package when missing. */
export function findTool(name: string): string {
  const cached = resolved.get(name);
  if (cached !== undefined) return cached;
  const dirs = [...SYSTEM_DIRS, ...(process.env['PATH'] ?? '').split(delimiter)];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) {
      resolved.set(name, candidate);
      return candidate;
    }
  }
  const pkg = PACKAGE_OF[name];
  throw new Error(
    `netns testbed: the command "${name}" was not found in ${SYSTEM_DIRS.join(', ')} or PATH; ` +
      (pkg !== undefined ? `install it: apt-get install ${pkg}` : 'install it'),
  );
}

export interface RunToolOptions {
  /** Written to the command's stdin (batches for `ip -batch -` and `nft -f -`). */
  readonly input?: string;
  readonly timeout_ms?: number;
  /** What the user should do when the command fails; appended to the error. */
  readonly hint: string;
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly duration_ms: number;
}

/**
 * Run a system tool with an argument vector (never a shell string, so no value is ever
 * re-parsed), bounded in time and output. A non-zero exit raises a ToolError.
 */
export function runTool(
  name: string,
  args: readonly string[],
  options: RunToolOptions,
): Promise<ToolResult> {
  const file = findTool(name);
  const timeout_ms = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes + chunk.length <= MAX_OUTPUT_BYTES) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes + chunk.length <= MAX_OUTPUT_BYTES) err.push(chunk);
      errBytes += chunk.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout_ms);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new ToolError(file, args, null, e.message, options.hint));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new ToolError(
            file,
            args,
            null,
            `timed out after ${timeout_ms} ms. ${stderr}`,
            options.hint,
          ),
        );
      } else if (code !== 0) {
        reject(new ToolError(file, args, code, stderr, options.hint));
      } else {
        resolve({ stdout, stderr, duration_ms: performance.now() - started });
      }
    });
    // EPIPE when a tool exits before reading its stdin is reported by 'close' with its code.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
