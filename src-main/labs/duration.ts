/**
 * Durations in lab files: "250ms", "5s", "1.5s", "1m", or a plain number of milliseconds.
 * Returns milliseconds, or null when `value` is not a duration.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/.exec(value);
  if (match === null) return null;
  const amount = Number(match[1]);
  const unit_ms = match[2] === 'ms' ? 1 : match[2] === 's' ? 1_000 : 60_000;
  const ms = amount * unit_ms;
  return Number.isFinite(ms) ? ms : null;
}

/** 250 → "250ms", 5000 → "5s", 90000 → "1m30s"; for messages and tables. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1_000) return `${trim(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1_000)}s`;
  const minutes = Math.floor(ms / 60_000);
  const rest_s = (ms - minutes * 60_000) / 1_000;
  return rest_s === 0 ? `${String(minutes)}m` : `${String(minutes)}m${trim(rest_s)}s`;
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, '');
}
