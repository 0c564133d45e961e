/** Wall-clock milliseconds since the epoch with sub-millisecond precision. */
export function wallClock_ms(): number {
  return performance.timeOrigin + performance.now();
}
