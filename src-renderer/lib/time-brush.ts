/**
 * The message-flow view's time window: pure helpers for the mini timeline brush and the
 * window-width presets. Times in ms since run start.
 */
export const WINDOW_PRESETS_MS = [100, 250, 500, 1_000, 2_000, 5_000] as const;
/** Narrower than this and arrows are indistinguishable from the lifelines' ticks. */
export const MIN_WINDOW_MS = 20;

export interface TimeWindow {
  readonly from_ms: number;
  readonly to_ms: number;
}

/** A window of `width_ms` centred on `t_ms`, kept inside [0, duration]. */
export function windowAround(t_ms: number, width_ms: number, duration_ms: number): TimeWindow {
  const width = Math.max(MIN_WINDOW_MS, Math.min(width_ms, Math.max(duration_ms, MIN_WINDOW_MS)));
  let from = t_ms - width / 2;
  from = Math.max(0, Math.min(from, Math.max(0, duration_ms - width)));
  return { from_ms: from, to_ms: from + width };
}

/** The window ending at `end_ms` (live runs look at the most recent messages). */
export function windowEndingAt(end_ms: number, width_ms: number): TimeWindow {
  const to = Math.max(end_ms, width_ms);
  return { from_ms: Math.max(0, to - width_ms), to_ms: to };
}

/** A brush drag between two x positions (px) on a bar of `width_px` showing [0, duration]. */
export function brushWindow(
  x0_px: number,
  x1_px: number,
  width_px: number,
  duration_ms: number,
): TimeWindow {
  const toTime = (x: number): number =>
    (Math.min(Math.max(x, 0), width_px) / Math.max(1, width_px)) * duration_ms;
  let a = toTime(Math.min(x0_px, x1_px));
  let b = toTime(Math.max(x0_px, x1_px));
  if (b - a < MIN_WINDOW_MS) {
    const mid = (a + b) / 2;
    a = Math.max(0, mid - MIN_WINDOW_MS / 2);
    b = a + MIN_WINDOW_MS;
  }
  return { from_ms: a, to_ms: b };
}

/** Moves a window by a fraction of its width, staying inside [0, duration]. */
export function shiftWindow(w: TimeWindow, fraction: number, duration_ms: number): TimeWindow {
  const width = w.to_ms - w.from_ms;
  return windowAround((w.from_ms + w.to_ms) / 2 + width * fraction, width, duration_ms);
}
