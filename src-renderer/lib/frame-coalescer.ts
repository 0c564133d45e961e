/** The browser's animation frames, looked up at call time so the module loads in Node tests. */
const browserFrames = {
  request(cb: () => void): number {
    const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number })
      .requestAnimationFrame;
    if (raf === undefined) throw new Error('no requestAnimationFrame here; inject requestFrame');
    return raf(cb);
  },
  cancel(handle: number): void {
    (globalThis as { cancelAnimationFrame?: (h: number) => void }).cancelAnimationFrame?.(handle);
  },
};

/**
 * Runs a callback at most once per animation frame however often it is requested: 10,000
 * records/s arrive in ~10 batches/s, each of which would otherwise wake every Vue watcher.
 * `requestFrame`/`cancelFrame` are injectable so tests run it without a browser.
 */
export class FrameCoalescer {
  private handle: number | null = null;
  private disposed = false;

  constructor(
    private readonly callback: () => void,
    private readonly requestFrame: (cb: () => void) => number = browserFrames.request,
    private readonly cancelFrame: (handle: number) => void = browserFrames.cancel,
  ) {}

  request(): void {
    if (this.disposed || this.handle !== null) return;
    this.handle = this.requestFrame(() => {
      this.handle = null;
      if (!this.disposed) this.callback();
    });
  }

  get pending(): boolean {
    return this.handle !== null;
  }

  dispose(): void {
    this.disposed = true;
    if (this.handle !== null) this.cancelFrame(this.handle);
    this.handle = null;
  }
}
