/**
 * The agent's clocks, in one place so every timestamp it reports is taken the same way.
 * `performance.timeOrigin + performance.now()` is the wall clock with sub-millisecond
 * precision that never steps backwards within the process (Date.now can, under NTP).
 */
export function wallClock_ms(): number {
  return performance.timeOrigin + performance.now();
}

/** Wall clock in microseconds since the epoch (history `time_us`). */
export function wallClock_us(): number {
  return Math.round(performance.timeOrigin * 1000 + performance.now() * 1000);
}

/** Monotonic milliseconds since the process started (`Context.now`). */
export function monotonic_ms(): number {
  return performance.now();
}
