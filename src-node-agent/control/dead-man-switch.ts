/**
 * The dead-man switch: while no orchestrator is connected a lease runs; if it expires, the
 * agent undoes every fault it applied, so a crashed orchestrator or a cut SSH link never
 * leaves a cluster partitioned. It fires once per disconnection.
 */
export class DeadManSwitch {
  private timer: NodeJS.Timeout | null = null;
  /** Times the lease expired, since creation. */
  expirations = 0;

  constructor(
    readonly lease_ms: number,
    private readonly onExpired: () => void,
  ) {}

  /** Nobody is connected: start the lease (no-op if it is already running). */
  arm(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.expirations++;
      this.onExpired();
    }, this.lease_ms);
  }

  /** An orchestrator is connected. */
  disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  get armed(): boolean {
    return this.timer !== null;
  }
}
