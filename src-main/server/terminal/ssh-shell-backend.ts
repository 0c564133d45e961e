import { StringDecoder } from 'node:string_decoder';
import type { SshShell } from '../../ssh/ssh-shell';
import type { TerminalBackend } from './terminal-backend';

/**
 * A login shell on a node's host, over the testbed's own SSH connection (ssh2 `shell`: a pty
 * on the remote side). Pausing stops reading the channel, so ssh2 stops widening its window
 * and the remote side's writes wait there. Closing the channel hangs up the remote shell.
 */
export class SshShellBackend implements TerminalBackend {
  private readonly decoder = new StringDecoder('utf8');
  private code: number | null = null;
  private signal: string | null = null;

  constructor(private readonly shell: SshShell) {
    // The remote command's status comes before the channel closes (absent if the link died).
    shell.stream.on('exit', (code: number | null, signal?: string) => {
      this.code = code;
      this.signal = signal ?? null;
    });
  }

  onData(listener: (data: string) => void): void {
    const decode = (chunk: Buffer): void => {
      const text = this.decoder.write(chunk);
      if (text !== '') listener(text);
    };
    this.shell.stream.on('data', decode);
    // With a pty, the remote side's stderr is the terminal too; without one it comes apart.
    this.shell.stream.stderr.on('data', decode);
  }

  onExit(listener: (code: number | null, reason: string) => void): void {
    this.shell.stream.once('close', () => {
      const reason =
        this.signal !== null
          ? `killed by signal ${this.signal} on ${this.shell.where}`
          : this.code !== null
            ? `exited with code ${this.code} on ${this.shell.where}`
            : `the SSH channel to ${this.shell.where} closed (connection lost, or the shell was hung up)`;
      listener(this.code, reason);
    });
  }

  write(data: string): void {
    if (!this.shell.isClosed) this.shell.write(data);
  }

  resize(cols: number, rows: number): void {
    this.shell.resize(rows, cols);
  }

  pause(): void {
    this.shell.stream.pause();
    this.shell.stream.stderr.pause();
  }

  resume(): void {
    this.shell.stream.resume();
    this.shell.stream.stderr.resume();
  }

  close(): void {
    this.shell.dispose();
  }
}
