import { spawn, type IPty } from 'node-pty';
import type { PushTarget } from '../push-target';
import { TerminalFlow } from './terminal-flow';

export interface TerminalSpec {
  readonly terminalId: string;
  readonly title: string;
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly cols: number;
  readonly rows: number;
}

/** The user's login shell, as a terminal emulator would start it. */
export function userShell(): string {
  return process.env['SHELL'] ?? '/bin/sh';
}

/**
 * One pty on this machine, streamed to one page with ack-based flow control. Killed by PID
 * (its process group) when closed, so a shell left running in a closed tab does not linger.
 */
export class TerminalSession {
  private readonly pty: IPty;
  private readonly flow: TerminalFlow;
  private exited = false;

  constructor(
    readonly spec: TerminalSpec,
    target: PushTarget,
    onExit: () => void,
  ) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    Object.assign(env, spec.env, { TERM: 'xterm-256color', COLORTERM: 'truecolor' });
    this.pty = spawn(userShell(), [], {
      name: 'xterm-256color',
      cols: spec.cols,
      rows: spec.rows,
      cwd: spec.cwd,
      env,
    });
    this.flow = new TerminalFlow(
      (data) => target.push({ push: 'terminal-data', terminalId: spec.terminalId, data }),
      () => this.pty.pause(),
      () => this.pty.resume(),
    );
    this.pty.onData((data) => this.flow.output(data));
    this.pty.onExit(({ exitCode, signal }) => {
      this.exited = true;
      target.push({
        push: 'terminal-exit',
        terminalId: spec.terminalId,
        code: exitCode,
        reason:
          signal !== undefined && signal !== 0
            ? `killed by signal ${signal}`
            : `exited with code ${exitCode}`,
      });
      onExit();
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  input(data: string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.pty.resize(cols, rows);
  }

  ack(bytes: number): void {
    this.flow.ack(bytes);
  }

  /** SIGHUP to the shell's process group (as closing a terminal window does), then SIGKILL. */
  close(): void {
    if (this.exited) return;
    const pid = this.pty.pid;
    try {
      process.kill(-pid, 'SIGHUP');
    } catch {
      // Not a group leader or already gone: signal the shell itself below.
    }
    try {
      this.pty.kill('SIGHUP');
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      if (this.exited) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 1_000);
    timer.unref();
  }
}
