import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Socket } from 'node:net';
import { findTool, ToolError } from './run-tool';

/**
 * One long-lived `nft -i` fed batches on stdin, so a fault costs a netlink transaction and not
 * a process start (fork, exec, library loading and cache set-up: 5-10 ms, and tens of ms when
 * the machine is busy). Each batch goes as ONE line: nft runs a line as one transaction, so the
 * batch stays all-or-nothing, exactly as with `nft -f`. After the batch comes `describe tcp
 * dport`, which touches no kernel state and always prints the same line: when that line shows,
 * nft has finished the batch, and an `Error:` printed before it (stderr goes into the same
 * pipe, in order) means the batch was rejected as a whole.
 *
 * Batches run one at a time. A batch that does not finish in time, or an nft that exits,
 * closes the session; the next batch starts a new one.
 */

const MARKER_COMMAND = 'describe tcp dport';
/** The start of what MARKER_COMMAND prints (nft 0.9 through 1.1). */
const MARKER_OUTPUT = 'payload expression, datatype inet_service';
const MAX_OUTPUT_CHARS = 256 * 1024;
const READY_TIMEOUT_MS = 5_000;

export class NftSessionUnavailable extends Error {}

export class NftSession {
  private output = '';
  private waiter: { resolve: (text: string) => void; reject: (e: Error) => void } | null = null;
  private closed = false;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onOutput(chunk));
    child.stdin.on('error', () => undefined);
    child.once('error', (err) => this.onClosed(`could not run nft -i: ${err.message}`));
    child.once('close', (code) => this.onClosed(`nft -i exited (${String(code)})`));
  }

  /**
   * Start `nft -i` and wait until it answers. NftSessionUnavailable when this nft has no
   * interactive mode (a build without it) or does not answer: use `nft -f` then.
   */
  static async open(): Promise<NftSession> {
    const nft = findTool('nft');
    // stderr into stdout, so an error and the marker arrive in the order nft wrote them.
    const child = spawn('/bin/sh', ['-c', 'exec "$0" -i 2>&1', nft], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The session must not keep the process alive; nft ends when our end of stdin closes.
    child.unref();
    // Pipes to a child are net.Sockets, typed as plain streams.
    for (const pipe of [child.stdin, child.stdout, child.stderr])
      (pipe as unknown as Socket).unref();
    const session = new NftSession(child);
    try {
      await session.exchange('', READY_TIMEOUT_MS);
    } catch (err) {
      session.close();
      throw new NftSessionUnavailable(`nft -i is not usable here: ${(err as Error).message}`);
    }
    return session;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Run an nft script (one command per line, as for `nft -f`) as one transaction. A rejected
   * batch raises a ToolError carrying nft's message and `hint`.
   */
  run(script: string, options: { timeout_ms: number; hint: string }): Promise<void> {
    const line = script
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join('; ');
    const step = this.busy.then(async () => {
      const said = await this.exchange(line, options.timeout_ms);
      if (/^Error:/m.test(said)) {
        throw new ToolError(findTool('nft'), ['-i'], 1, said, options.hint);
      }
    });
    this.busy = step.catch(() => undefined);
    return step;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }

  /** Send `line` (may be empty) and the marker; what nft printed before the marker's output. */
  private exchange(line: string, timeout_ms: number): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the nft -i session is closed'));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`nft -i did not finish a batch within ${timeout_ms} ms: ${line}`));
        // Its state is unknown now: the next batch gets a fresh nft.
        this.close();
      }, timeout_ms);
      this.output = '';
      this.waiter = {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.child.stdin.write(`${line === '' ? '' : `${line}\n`}${MARKER_COMMAND}\n`);
    });
  }

  private onOutput(chunk: string): void {
    this.output = (this.output + chunk).slice(-MAX_OUTPUT_CHARS);
    const at = this.output.indexOf(MARKER_OUTPUT);
    if (at < 0) return;
    const end = this.output.indexOf('\n', at);
    if (end < 0) return;
    const said = this.output.slice(0, at);
    this.output = this.output.slice(end + 1);
    const w = this.waiter;
    this.waiter = null;
    w?.resolve(said);
  }

  private onClosed(why: string): void {
    this.closed = true;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(new Error(`${why}${this.output.trim() === '' ? '' : `: ${this.output.trim()}`}`));
  }
}
