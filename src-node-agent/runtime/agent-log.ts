import { appendFileSync, renameSync, statSync } from 'node:fs';

/** Beyond this size agent.log is moved to agent.log.1 (one generation kept). */
export const AGENT_LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * `<workDir>/agent.log`: lifecycle lines a human reads after the fact (started, lease
 * expired, crashed, stopped), one per line with an ISO timestamp. Written synchronously, so
 * the last line before a crash is on disk. Never throws: logging must not kill the agent.
 */
export class AgentLog {
  private bytes: number;

  constructor(readonly path: string) {
    try {
      this.bytes = statSync(path).size;
    } catch {
      this.bytes = 0;
    }
  }

  line(text: string): void {
    const entry = `${new Date().toISOString()} ${text.replace(/\n/g, '\n    ')}\n`;
    try {
      if (this.bytes + entry.length > AGENT_LOG_MAX_BYTES) {
        renameSync(this.path, `${this.path}.1`);
        this.bytes = 0;
      }
      appendFileSync(this.path, entry, { mode: 0o600 });
      this.bytes += Buffer.byteLength(entry);
    } catch (err) {
      process.stderr.write(`faultlab-agent: cannot write ${this.path}: ${String(err)}\n${entry}`);
    }
  }
}
