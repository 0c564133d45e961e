import type { FaultPeriod, Series } from '../../src-main/api/run-view-schema';

/** What the live charts show: the last 60 s, as {x: seconds, y} points Chart.js draws directly. */
export const CHART_WINDOW_MS = 60_000;

export interface ChartLine {
  readonly label: string;
  readonly colour: string;
  readonly series: Series;
  readonly dashed?: boolean;
}

export interface XY {
  x: number;
  y: number;
}

/** First index with t >= t_ms (binary search; series times ascend). */
export function lowerBound(times: readonly number[], t_ms: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t_ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Samples further apart than this are a gap (no completed operation reported a latency while
 * the cluster was down), drawn as a break instead of a slope across the outage.
 */
export const GAP_MS = 1_500;

/**
 * The points of `series` in [from_ms, to_ms], in seconds on x. One point before `from` is kept
 * so the line enters the chart from its left edge instead of starting mid-air; a NaN point
 * marks each gap, which Chart.js draws as a break in the line.
 */
export function windowPoints(series: Series, from_ms: number, to_ms: number): XY[] {
  const start = Math.max(0, lowerBound(series.t, from_ms) - 1);
  const end = lowerBound(series.t, to_ms + 1e-9);
  const points: XY[] = [];
  for (let i = start; i < end; i++) {
    const t = series.t[i] as number;
    const previous = i > start ? (series.t[i - 1] as number) : t;
    if (t - previous > GAP_MS) points.push({ x: (t + previous) / 2000, y: Number.NaN });
    points.push({ x: t / 1000, y: series.v[i] as number });
  }
  return points;
}

/** The shortest window: below it a few samples would stretch across the whole chart. */
const MIN_CHART_WINDOW_MS = 10_000;

/**
 * The window for a run of `duration_ms` (null: unknown): the whole run when it is shorter than
 * the 60 s default, so a 30 s lab fills its charts instead of leaving the right half empty.
 */
export function chartWindowFor(duration_ms: number | null): number {
  if (duration_ms === null || !(duration_ms > 0)) return CHART_WINDOW_MS;
  return Math.min(CHART_WINDOW_MS, Math.max(MIN_CHART_WINDOW_MS, duration_ms));
}

/** The visible range: the window ending at `end_ms`, never before 0. */
export function chartRange(
  end_ms: number,
  window_ms = CHART_WINDOW_MS,
): { from_ms: number; to_ms: number } {
  const to_ms = Math.max(end_ms, window_ms);
  return { from_ms: to_ms - window_ms, to_ms };
}

export function latestValue(series: Series): number | null {
  const n = series.v.length;
  return n === 0 ? null : (series.v[n - 1] as number);
}

export interface ShadeRect {
  readonly id: string;
  readonly label: string;
  readonly type: string;
  /** Seconds on the chart's x axis. */
  readonly x0: number;
  readonly x1: number;
  readonly open: boolean;
}

/** Fault periods clipped to the visible range; open periods run to `now_ms`. */
export function shadeRects(
  periods: readonly FaultPeriod[],
  from_ms: number,
  to_ms: number,
  now_ms: number,
): ShadeRect[] {
  const out: ShadeRect[] = [];
  for (const p of periods) {
    const end = p.to_ms ?? now_ms;
    if (end < from_ms || p.from_ms > to_ms) continue;
    out.push({
      id: p.id,
      label: p.label,
      type: p.type,
      x0: Math.max(p.from_ms, from_ms) / 1000,
      x1: Math.min(end, to_ms) / 1000,
      open: p.to_ms === null,
    });
  }
  return out;
}

/** Shading colour by fault kind: node faults red/amber, network faults violet/blue. */
export function shadeColour(type: string): string {
  switch (type) {
    case 'crash':
      return 'rgba(248, 81, 73, 0.16)';
    case 'pause':
      return 'rgba(210, 153, 34, 0.16)';
    case 'degrade':
      return 'rgba(56, 139, 253, 0.14)';
    default:
      return 'rgba(163, 113, 247, 0.16)';
  }
}
