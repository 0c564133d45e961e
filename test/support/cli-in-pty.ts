import { join, resolve } from 'node:path';
import { spawn, type IPty } from 'node-pty';

export const REPO = resolve(import.meta.dirname, '../..');

/** `faultlab …` on a real pty, as a person at a terminal runs it. */
export interface CliInPty {
  /** Everything the terminal showed so far. */
  output(): string;
  /** Type (\r is Enter). */
  type(text: string): void;
  /** Wait until `text` is on the terminal, or fail showing what is. */
  waitForText(text: string, timeout_ms: number): Promise<void>;
  /** The exit code, or a failure after `timeout_ms`. */
  exitCode(timeout_ms: number): Promise<number>;
  /** Kill it if it still runs. */
  dispose(): void;
}

export function faultlabInPty(args: readonly string[], env: Record<string, string>): CliInPty {
  const pty: IPty = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src-main/cli/faultlab.ts'), ...args],
    { cwd: REPO, cols: 160, rows: 40, env: { ...process.env, ...env } },
  );
  let output = '';
  let exited: number | null = null;
  pty.onData((d) => (output += d));
  const exit = new Promise<number>((done) =>
    pty.onExit(({ exitCode }) => {
      exited = exitCode;
      done(exitCode);
    }),
  );
  return {
    output: () => output,
    type: (text) => pty.write(text),
    async waitForText(text, timeout_ms) {
      const deadline = Date.now() + timeout_ms;
      while (!output.includes(text)) {
        if (Date.now() > deadline) {
          throw new Error(
            `no "${text}" on the terminal within ${timeout_ms} ms; it shows:\n${output}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    exitCode: (timeout_ms) =>
      Promise.race([
        exit,
        new Promise<number>((_, fail) =>
          setTimeout(
            () =>
              fail(new Error(`faultlab ${args[0]} did not end in ${timeout_ms} ms:\n${output}`)),
            timeout_ms,
          ).unref(),
        ),
      ]),
    dispose() {
      if (exited !== null) return;
      try {
        pty.kill();
      } catch {
        // Already gone.
      }
    },
  };
}
