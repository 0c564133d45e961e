import type { PushTarget } from '../push-target';
import type { TerminalBackend } from './terminal-backend';
import { TerminalFlow } from './terminal-flow';

export { userShell } from './pty-backend';

/**
 * One terminal (a local pty or a shell over SSH) streamed to one page: output in chunks with
 * ack-based flow control, input and resizes passed through, and an exit push when the shell
 * ends. Closing it ends the shell.
 */
export class TerminalSession {
  private readonly flow: TerminalFlow;
  private exited = false;

  constructor(
    readonly terminalId: string,
    readonly title: string,
    private readonly backend: TerminalBackend,
    target: PushTarget,
    onExit: () => void,
  ) {
    this.flow = new TerminalFlow(
      (data) => target.push({ push: 'terminal-data', terminalId, data }),
      () => backend.pause(),
      () => backend.resume(),
    );
    backend.onData((data) => this.flow.output(data));
    backend.onExit((code, reason) => {
      this.exited = true;
      target.push({ push: 'terminal-exit', terminalId, code, reason });
      onExit();
    });
  }

  input(data: string): void {
    if (!this.exited) this.backend.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.backend.resize(cols, rows);
  }

  ack(bytes: number): void {
    this.flow.ack(bytes);
  }

  close(): void {
    if (!this.exited) this.backend.close();
  }
}
