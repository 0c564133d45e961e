import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import type { SshConnection } from '../../ssh/ssh-connection';
import { shellQuote } from '../../ssh/ssh-exec';

/**
 * One `sh` kept open on a host, fed commands on stdin. Opening an exec channel costs a session
 * on the server and a run of the user's shell startup files (~200 ms of CPU on a host whose
 * .bashrc initialises pyenv or nvm, and ten hosts pay it at once on a shared machine); a crash
 * must land when the script says, so every command of the testbed goes through a shell that
 * paid that once. Commands run one at a time, each framed by a random end marker that carries
 * its exit status.
 *
 * Background jobs started by a command (agent watchers) report through notices: a record
 * `\x1e<notice marker> <tag> <text>\x1f` written with a single printf. One small write to the
 * channel is never split by another writer's, so a notice is a contiguous run of the output
 * wherever it lands, and it is cut out of the output before the end marker is looked for.
 */

export interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT_CHARS = 1024 * 1024;
const MAX_QUEUED = 256;
/** A notice is a tag and a short status; anything longer is output that happens to hold \x1e. */
const MAX_NOTICE_CHARS = 1024;
const NOTICE_START = '\x1e';
const NOTICE_END = '\x1f';

export class RemoteShell {
  private stdout = '';
  private stderr = '';
  /** Output not yet passed on: a notice may have begun and not ended. */
  private pending = '';
  private current: {
    marker: string;
    resolve: (r: ShellResult) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  } | null = null;
  private queue: (() => void)[] = [];
  private closed = false;
  private readonly noticeMarker = `__faultlab_notice_${randomBytes(8).toString('hex')}__`;
  private noticeListener: ((tag: string, text: string) => void) | null = null;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(
    private readonly channel: ClientChannel,
    private readonly where: string,
  ) {
    channel.setEncoding('utf8');
    channel.on('data', (chunk: string) => this.onOutput(chunk));
    channel.stderr.setEncoding('utf8');
    channel.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-MAX_OUTPUT_CHARS);
    });
    channel.once('close', () => {
      this.closed = true;
      this.current?.reject(new Error(`the command shell on ${where} closed (SSH link lost?)`));
      this.current = null;
      for (const next of this.queue.splice(0)) next();
      for (const listener of this.closeListeners.splice(0)) listener();
    });
  }

  static async open(connection: SshConnection): Promise<RemoteShell> {
    return new RemoteShell(await connection.execStream('exec sh'), connection.where);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Notices of background jobs (one listener: the testbed that started them). */
  onNotice(listener: (tag: string, text: string) => void): void {
    this.noticeListener = listener;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /**
   * Shell text that reports `tag` with the value of the shell expression `valueExpr` (e.g.
   * `"$s"`) as a notice of this shell, for a job running in the background of a command.
   */
  noticeCommand(tag: string, valueExpr: string): string {
    if (/\s/.test(tag) || tag.includes(NOTICE_START) || tag.includes(NOTICE_END))
      throw new Error(`notice tag "${tag}" must be one word`);
    return `printf '\\036%s %s %s\\037' ${shellQuote(this.noticeMarker)} ${shellQuote(tag)} ${valueExpr}`;
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

  private onOutput(chunk: string): void {
    this.pending += chunk;
    let plain = '';
    for (;;) {
      const start = this.pending.indexOf(NOTICE_START);
      if (start < 0) {
        plain += this.pending;
        this.pending = '';
        break;
      }
      plain += this.pending.slice(0, start);
      this.pending = this.pending.slice(start);
      const end = this.pending.indexOf(NOTICE_END);
      const head = `${NOTICE_START}${this.noticeMarker} `;
      if (end < 0) {
        // Keep a notice that has begun; anything else with \x1e in it is plain output.
        const mayBeNotice =
          this.pending.length <= MAX_NOTICE_CHARS &&
          (head.startsWith(this.pending) || this.pending.startsWith(head));
        if (mayBeNotice) break;
        plain += this.pending[0];
        this.pending = this.pending.slice(1);
        continue;
      }
      if (!this.pending.startsWith(head)) {
        plain += this.pending[0];
        this.pending = this.pending.slice(1);
        continue;
      }
      const body = this.pending.slice(head.length, end);
      this.pending = this.pending.slice(end + 1);
      const space = body.indexOf(' ');
      this.noticeListener?.(
        space < 0 ? body : body.slice(0, space),
        space < 0 ? '' : body.slice(space + 1),
      );
    }
    if (plain !== '') this.onStdout(plain);
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
