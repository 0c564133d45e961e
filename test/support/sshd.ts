/**
 * A private OpenSSH server for tests: `/usr/sbin/sshd -D -e` on 127.0.0.1:<free port>, its own
 * ed25519 host key and an authorized client key, all in a temporary directory. Real OpenSSH, so
 * the SSH layer is tested against the server it will meet on real hosts.
 *
 * Every process is tracked by PID; `stop()` kills the listener and every session child it forked
 * and removes the directory. `restartWithNewHostKey()` keeps the port (for the changed-key test),
 * `dropSessions()` SIGKILLs the per-connection children (for the reconnect test).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';
export const SSH_KEYGEN_PATH = '/usr/bin/ssh-keygen';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const MAX_LOG_CHARS = 64 * 1024;

/** Why the sshd tests cannot run here, or null when they can (root + OpenSSH installed). */
export function sshdUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (sshd must run as root to switch users)';
  if (!existsSync(SSHD_PATH)) return `${SSHD_PATH} missing: apt-get install openssh-server`;
  if (!existsSync(SSH_KEYGEN_PATH))
    return `${SSH_KEYGEN_PATH} missing: apt-get install openssh-client`;
  return null;
}

export interface TestSshd {
  readonly port: number;
  readonly dir: string;
  /** Current host key (changes after `restartWithNewHostKey`). */
  readonly hostKeyPath: string;
  /** `ssh-ed25519 AAAA… comment`, the current host key's public line. */
  readonly hostPublicKey: string;
  /** Unencrypted client key, authorized for root. */
  readonly clientKeyPath: string;
  /** The listener's PID. */
  readonly pid: number;
  /** The sshd log (stderr, -e), bounded. */
  log(): string;
  /** SIGKILL every session child of the listener: each open SSH connection drops at once. */
  dropSessions(): number;
  /** Stop, generate a new host key, start again on the same port. */
  restartWithNewHostKey(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** Authorize these public key lines too (e.g. a passphrase-protected key). */
  readonly extraAuthorizedKeys?: readonly string[];
}

export async function startSshd(options: StartSshdOptions = {}): Promise<TestSshd> {
  const unavailable = sshdUnavailableReason();
  if (unavailable !== null) throw new Error(`cannot start a test sshd: ${unavailable}`);
  // sshd refuses to start without its privilege separation directory; the Debian service
  // creates it at boot, but in a container nothing has.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'faultlab-sshd-'));
  try {
    const clientKeyPath = join(dir, 'client_ed25519');
    generateKey(clientKeyPath, 'faultlab-test-client');
    const authorized = [
      readFileSync(`${clientKeyPath}.pub`, 'utf8').trim(),
      ...(options.extraAuthorizedKeys ?? []),
    ];
    await writeFile(join(dir, 'authorized_keys'), `${authorized.join('\n')}\n`, { mode: 0o600 });
    const port = await freePort();
    const server = new Sshd(dir, port, clientKeyPath);
    await server.start(1);
    return server;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

class Sshd implements TestSshd {
  private child: ChildProcess | null = null;
  private generation = 0;
  private logText = '';
  hostKeyPath = '';
  hostPublicKey = '';

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly clientKeyPath: string,
  ) {}

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`test sshd on port ${String(this.port)} is not running`);
    return pid;
  }

  log(): string {
    return this.logText;
  }

  async start(generation: number): Promise<void> {
    this.generation = generation;
    this.hostKeyPath = join(this.dir, `host_ed25519_${String(generation)}`);
    generateKey(this.hostKeyPath, `faultlab-test-host-${String(generation)}`);
    this.hostPublicKey = readFileSync(`${this.hostKeyPath}.pub`, 'utf8').trim();
    const configPath = join(this.dir, 'sshd_config');
    await writeFile(configPath, this.config(), { mode: 0o600 });
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.logText = (this.logText + chunk).slice(-MAX_LOG_CHARS);
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `test sshd on port ${String(this.port)} exited before listening (code ${String(code)}, signal ${String(signal)}):\n${this.logText}`,
          ),
        ),
      );
      child.once('error', reject);
    });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(this.port, READY_TIMEOUT_MS, () => this.logText), exited]);
  }

  private config(): string {
    return [
      `ListenAddress 127.0.0.1:${String(this.port)}`,
      `HostKey ${this.hostKeyPath}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'PidFile none',
      'UsePAM no',
      // The temp dir is owned by root but /tmp is world-writable: StrictModes would refuse it.
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      'AllowStreamLocalForwarding yes',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n');
  }

  dropSessions(): number {
    const listener = this.child?.pid;
    if (listener === undefined) return 0;
    const victims = descendantsOf(listener);
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone: the session ended on its own between listing and killing.
      }
    }
    return victims.length;
  }

  async restartWithNewHostKey(): Promise<void> {
    await this.kill();
    await this.start(this.generation + 1);
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    // Sessions first: a killed listener leaves its forked session children running.
    const sessions = child.pid === undefined ? [] : descendantsOf(child.pid);
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await withTimeout(gone, STOP_TIMEOUT_MS).catch(() => child.kill('SIGKILL'));
    }
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited with the listener.
      }
    }
  }
}

function generateKey(path: string, comment: string): void {
  const result = spawnSync(
    SSH_KEYGEN_PATH,
    ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path],
    {
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `ssh-keygen failed for ${path} (status ${String(result.status)}): ${result.stderr}`,
    );
  }
}

/** A port the OS says is free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe(port)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `test sshd did not listen on 127.0.0.1:${String(port)} within ${String(timeoutMs)} ms:\n${log()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every descendant PID of `pid`, deepest last, from /proc (children files per task). */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const visit = (parent: number): void => {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${String(parent)}/task/${String(parent)}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((s) => s !== '')
        .map(Number);
    } catch {
      return;
    }
    for (const child of children) {
      out.push(child);
      visit(child);
    }
  };
  visit(pid);
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${String(ms)} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
