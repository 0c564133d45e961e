/**
 * At most `perSecond` events per one-second window; the rest are counted as suppressed.
 * For reports a peer can trigger at will (garbage input, failed authentications): the
 * event buffer must stay for events that matter.
 */
export class RateLimit {
  private windowStart_ms = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private suppressedInWindow = 0;

  constructor(
    readonly perSecond: number,
    private readonly now_ms: () => number = () => performance.now(),
  ) {}

  /**
   * Whether one more event may be reported now. `onWindowEnd` is told how many were
   * suppressed in the window that just ended (if any), so the loss itself gets reported.
   */
  allow(onWindowEnd?: (suppressed: number) => void): boolean {
    const now = this.now_ms();
    if (now - this.windowStart_ms >= 1000) {
      if (this.suppressedInWindow > 0) onWindowEnd?.(this.suppressedInWindow);
      this.windowStart_ms = now;
      this.inWindow = 0;
      this.suppressedInWindow = 0;
    }
    if (this.inWindow < this.perSecond) {
      this.inWindow++;
      return true;
    }
    this.suppressedInWindow++;
    return false;
  }
}
