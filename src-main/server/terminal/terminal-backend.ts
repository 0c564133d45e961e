/**
 * What a dashboard terminal talks to: a pty on this machine, or a login shell on a node's host
 * over SSH. The session above adds chunking and ack-based backpressure; a backend only has to
 * stop reading when paused, so the flood waits at its source (the kernel's pty buffer, or the
 * SSH channel's window) instead of in our memory.
 */
export interface TerminalBackend {
  /** Decoded terminal output (UTF-8 sequences split across reads are kept whole). */
  onData(listener: (data: string) => void): void;
  /** Once: the shell ended; `reason` in words ("exited with code 0", "connection lost"). */
  onExit(listener: (code: number | null, reason: string) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  /** End the shell (hang-up first, then force); idempotent. */
  close(): void;
}
