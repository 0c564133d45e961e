import { spawn, type IPty } from 'node-pty';
import type { TerminalBackend } from './terminal-backend';

/** The user's login shell, as a terminal emulator would start it. */
export function userShell(): string {
  return process.env['SHELL'] ?? '/bin/sh';
}

const KILL_AFTER_HANGUP_MS = 1_000;

/**
 * The user's shell on a pty on this machine. Killed by PID (its process group) when closed,
 * so a shell left running in a closed tab does not linger.
 */
export class PtyBackend implements TerminalBackend {
  private readonly pty: IPty;
  private exited = false;

  constructor(spec: {
    readonly cwd: string;
    readonly env: Record<string, string>;
    readonly cols: number;
    readonly rows: number;
  }) {
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
    this.pty.onExit(() => {
      this.exited = true;
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  onData(listener: (data: string) => void): void {
    this.pty.onData(listener);
  }

  onExit(listener: (code: number | null, reason: string) => void): void {
    this.pty.onExit(({ exitCode, signal }) =>
      listener(
        exitCode,
        signal !== undefined && signal !== 0
          ? `killed by signal ${signal}`
          : `exited with code ${exitCode}`,
      ),
    );
  }

  write(data: string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.pty.resize(cols, rows);
  }

  pause(): void {
    this.pty.pause();
  }

  resume(): void {
    this.pty.resume();
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
    }, KILL_AFTER_HANGUP_MS);
    timer.unref();
  }
}
