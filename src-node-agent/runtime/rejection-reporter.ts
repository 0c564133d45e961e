import type { AgentEvent } from '../control/frames';
import { RateLimit } from './rate-limit';

/** `rejected` events per second at most; the rest are only counted (in `metrics`). */
export const MAX_REJECTED_EVENTS_PER_S = 50;

/**
 * Counts inputs refused at the node's door and reports them as `rejected` events — rate
 * limited, because a faulty or hostile peer can send garbage far faster than anyone wants
 * to read about it.
 */
export class RejectionReporter {
  private sinceTake = 0;
  private readonly limit: RateLimit;

  constructor(
    private readonly emit: (event: AgentEvent) => void,
    now_ms?: () => number,
  ) {
    this.limit = new RateLimit(MAX_REJECTED_EVENTS_PER_S, now_ms);
  }

  reject(from: string, reason: string): void {
    this.sinceTake++;
    const allowed = this.limit.allow((suppressed) =>
      this.emit({
        kind: 'log',
        level: 'warn',
        text: `${suppressed} more rejected inputs were counted but not reported one by one`,
      }),
    );
    if (allowed) this.emit({ kind: 'rejected', from, reason: reason.slice(0, 2000) });
  }

  /** Rejections since the previous call. */
  take(): number {
    const n = this.sinceTake;
    this.sinceTake = 0;
    return n;
  }
}
