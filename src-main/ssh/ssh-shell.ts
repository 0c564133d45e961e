import type { Client, ClientChannel } from 'ssh2';

/**
 * An interactive login shell on a pty, for the dashboard's terminals. The stream is the raw
 * terminal byte stream both ways; the terminal bridge above adds chunking and ack-based
 * backpressure (it can `pause()`/`resume()` the stream, which ssh2 turns into SSH window
 * adjustments, so a flood on the remote side stalls there instead of filling our memory).
 */

export interface ShellOptions {
  readonly rows?: number;
  readonly cols?: number;
  /** $TERM on the remote side; default xterm-256color (what xterm.js emulates). */
  readonly term?: string;
  /**
   * Run this on the remote pty instead of the account's login shell (e.g. `cd dir; exec
   * $SHELL -l`): sshd accepts no environment from clients by default (AcceptEnv), so a
   * command is how a shell starts somewhere particular without typing into it.
   */
  readonly command?: string;
}

export class SshShell {
  private closed = false;

  constructor(
    readonly stream: ClientChannel,
    readonly where: string,
  ) {
    stream.once('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(data: string | Buffer): void {
    if (this.closed) throw new Error(`the shell on ${this.where} is closed`);
    this.stream.write(data);
  }

  /** Tell the remote pty its new size (SIGWINCH there). */
  resize(rows: number, cols: number): void {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
      throw new Error(
        `shell resize on ${this.where}: rows and cols must be positive whole numbers, got ${String(rows)}x${String(cols)}`,
      );
    }
    if (this.closed) return;
    // Pixel sizes are optional in the protocol; 0 means "not given".
    this.stream.setWindow(rows, cols, 0, 0);
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }
}

export function openShell(
  client: Client,
  where: string,
  options: ShellOptions = {},
): Promise<SshShell> {
  return new Promise((resolve, reject) => {
    const pty = {
      rows: options.rows ?? 24,
      cols: options.cols ?? 80,
      term: options.term ?? 'xterm-256color',
    };
    const opened = (err: Error | undefined, stream: ClientChannel): void => {
      if (err !== undefined && err !== null) {
        reject(new Error(`cannot open a shell on ${where}: ${err.message}`));
        return;
      }
      resolve(new SshShell(stream, where));
    };
    if (options.command === undefined) client.shell(pty, opened);
    else client.exec(options.command, { pty }, opened);
  });
}
