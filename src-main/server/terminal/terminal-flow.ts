/** Largest `terminal-data` push (Tabby's pty bridge uses the same bound). */
export const MAX_TERMINAL_CHUNK_CHARS = 100 * 1024;
/** Unacknowledged output above which the pty is paused until the page acks. */
export const MAX_UNACKED_CHARS = 5 * MAX_TERMINAL_CHUNK_CHARS;

/**
 * Ack-based flow control for one terminal, independent of the pty so it can be tested alone:
 * output is split into chunks of at most 100 KB; when more than 5 × that is sent but not yet
 * acknowledged by the page (it acks what it has rendered), the source is paused, and resumed
 * once acks bring it back under the bound. Output is never queued here: a paused pty stops
 * reading, so the kernel's pty buffer, and then the program writing, wait.
 */
export class TerminalFlow {
  private unacked = 0;
  private paused = false;

  constructor(
    private readonly send: (chunk: string) => void,
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  get unacknowledged(): number {
    return this.unacked;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  output(data: string): void {
    for (let i = 0; i < data.length; i += MAX_TERMINAL_CHUNK_CHARS) {
      const chunk = data.slice(i, i + MAX_TERMINAL_CHUNK_CHARS);
      this.unacked += chunk.length;
      this.send(chunk);
    }
    if (!this.paused && this.unacked > MAX_UNACKED_CHARS) {
      this.paused = true;
      this.pause();
    }
  }

  ack(chars: number): void {
    this.unacked = Math.max(0, this.unacked - chars);
    if (this.paused && this.unacked <= MAX_UNACKED_CHARS) {
      this.paused = false;
      this.resume();
    }
  }
}
