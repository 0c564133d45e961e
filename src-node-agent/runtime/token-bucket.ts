/**
 * A token bucket: `ratePerSecond` tokens a second, at most `capacity` saved up. Over any
 * span of T seconds it grants at most `capacity + ratePerSecond * T` takes, so the long-run
 * rate is `ratePerSecond` while a burst (what a fault tends to cause) is granted at once.
 */
export class TokenBucket {
  private tokens: number;
  private last_ms: number;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number = ratePerSecond,
    private readonly now_ms: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new Error(
        `token bucket: rate must be a positive number per second, got ${ratePerSecond}`,
      );
    }
    if (!(capacity >= 1) || !Number.isFinite(capacity)) {
      throw new Error(`token bucket: capacity must be at least 1 token, got ${capacity}`);
    }
    this.tokens = capacity;
    this.last_ms = now_ms();
  }

  /** Take one token if there is one. */
  take(): boolean {
    const now = this.now_ms();
    if (now > this.last_ms) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + ((now - this.last_ms) * this.ratePerSecond) / 1000,
      );
      this.last_ms = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
