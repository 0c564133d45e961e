import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import type { SshConnection } from '../../ssh/ssh-connection';

/**
 * One `sh` kept open on a host, fed commands on stdin. Opening an exec channel costs a session
 * on the server and a run of the user's shell startup files (~300 ms on a host whose .bashrc
 * initialises pyenv or nvm); a crash must land when the script says, so process faults go
 * through a shell that paid that once. Commands run one at a time, each framed by a random
 * end marker that carries its exit status.
 */

export interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT_CHARS = 1024 * 1024;
const MAX_QUEUED = 256;

export class RemoteShell {
  private stdout = '';
  private stderr = '';
  private current: {
    marker: string;
    resolve: (r: ShellResult) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  } | null = null;
  private queue: (() => void)[] = [];
  private closed = false;

  private constructor(
    private readonly channel: ClientChannel,
    private readonly where: string,
  ) {
    channel.setEncoding('utf8');
    channel.on('data', (chunk: string) => this.onStdout(chunk));
    channel.stderr.setEncoding('utf8');
    channel.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-MAX_OUTPUT_CHARS);
    });
    channel.once('close', () => {
      this.closed = true;
      this.current?.reject(new Error(`the command shell on ${where} closed (SSH link lost?)`));
      this.current = null;
      for (const next of this.queue.splice(0)) next();
    });
  }

  static async open(connection: SshConnection): Promise<RemoteShell> {
    return new RemoteShell(await connection.execStream('exec sh'), connection.where);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  run(command: string, timeout_ms: number): Promise<ShellResult> {
    if (this.closed) {
      return Promise.reject(new Error(`the command shell on ${this.where} is closed`));
    }
    if (this.queue.length >= MAX_QUEUED) {
      return Promise.reject(
        new Error(`more than ${MAX_QUEUED} commands queued for ${this.where}; is the host stuck?`),
      );
    }
    return new Promise<ShellResult>((resolve, reject) => {
      const go = (): void => {
        if (this.closed) {
          reject(new Error(`the command shell on ${this.where} is closed`));
          return;
        }
        const marker = `__faultlab_${randomBytes(8).toString('hex')}__`;
        const timer = setTimeout(() => {
          this.current = null;
          reject(
            new Error(
              `command on ${this.where} did not finish within ${timeout_ms} ms: ${command}`,
            ),
          );
          // The shell is in an unknown state now: close it; the next use opens another.
          this.channel.close();
        }, timeout_ms);
        this.stdout = '';
        this.stderr = '';
        this.current = { marker, resolve, reject, timer };
        // A subshell: `exit` or `cd` in a command cannot end or move the shell itself.
        this.channel.write(`( ${command}\n) </dev/null; printf '\\n${marker} %d\\n' $?\n`);
      };
      if (this.current === null && this.queue.length === 0) go();
      else this.queue.push(go);
    });
  }

  close(): void {
    this.channel.close();
  }

  private onStdout(chunk: string): void {
    this.stdout = (this.stdout + chunk).slice(-MAX_OUTPUT_CHARS);
    const c = this.current;
    if (c === null) return;
    const at = this.stdout.indexOf(`\n${c.marker} `);
    if (at < 0) return;
    const end = this.stdout.indexOf('\n', at + 1 + c.marker.length);
    if (end < 0) return;
    const code = Number(this.stdout.slice(at + 1 + c.marker.length + 1, end));
    const result = { code, stdout: this.stdout.slice(0, at), stderr: this.stderr };
    clearTimeout(c.timer);
    this.current = null;
    this.stdout = this.stdout.slice(end + 1);
    c.resolve(result);
    this.queue.shift()?.();
  }
}
