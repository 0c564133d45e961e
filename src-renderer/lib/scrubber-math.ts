/**
 * Pure arithmetic for the playback scrubber: positions, fault jumps, speeds. Times are ms since
 * run start, like every t_ms in a recording.
 */

export const PLAYBACK_SPEEDS = [0.5, 1, 2, 4, 8, 16] as const;

/** A jump lands this far before a fault, so the moment before it is on screen too. */
export const FAULT_JUMP_LEAD_MS = 500;
/** Within this of a fault counts as "at" it, so repeated clicks move on to the next one. */
const AT_FAULT_MS = FAULT_JUMP_LEAD_MS + 50;

export function clampTime(t_ms: number, duration_ms: number): number {
  if (!Number.isFinite(t_ms)) return 0;
  return Math.min(Math.max(0, t_ms), Math.max(0, duration_ms));
}

/** 0..1 along the scrubber for a time; 0 for an empty recording. */
export function fractionOf(t_ms: number, duration_ms: number): number {
  if (duration_ms <= 0) return 0;
  return clampTime(t_ms, duration_ms) / duration_ms;
}

export function timeAtFraction(fraction: number, duration_ms: number): number {
  return clampTime(fraction * duration_ms, duration_ms);
}

/** Where "next fault" goes from the playhead: just before the next fault time, or null. */
export function nextFaultTime(
  faultTimes_ms: readonly number[],
  playhead_ms: number,
): number | null {
  let best: number | null = null;
  for (const t of faultTimes_ms) {
    if (t > playhead_ms + AT_FAULT_MS && (best === null || t < best)) best = t;
  }
  return best === null ? null : Math.max(0, best - FAULT_JUMP_LEAD_MS);
}

/** Where "previous fault" goes: just before the last fault strictly behind the playhead. */
export function previousFaultTime(
  faultTimes_ms: readonly number[],
  playhead_ms: number,
): number | null {
  let best: number | null = null;
  for (const t of faultTimes_ms) {
    if (t - FAULT_JUMP_LEAD_MS < playhead_ms - 50 && (best === null || t > best)) best = t;
  }
  if (best === null) return null;
  const target = Math.max(0, best - FAULT_JUMP_LEAD_MS);
  return target < playhead_ms ? target : null;
}

/** Fault marks as percentages along the scrubber, merged when closer than `minGap` percent. */
export function faultMarks(
  faultTimes_ms: readonly number[],
  duration_ms: number,
  minGap = 0.4,
): { t_ms: number; percent: number; count: number }[] {
  const sorted = [...faultTimes_ms].sort((a, b) => a - b);
  const marks: { t_ms: number; percent: number; count: number }[] = [];
  for (const t of sorted) {
    const percent = fractionOf(t, duration_ms) * 100;
    const last = marks[marks.length - 1];
    if (last !== undefined && percent - last.percent < minGap) {
      last.count++;
      continue;
    }
    marks.push({ t_ms: t, percent, count: 1 });
  }
  return marks;
}

/** "1:05.3" for 65,300 ms; hours appear when needed. */
export function formatClock(t_ms: number): string {
  const safe = Math.max(0, Number.isFinite(t_ms) ? t_ms : 0);
  const tenths = Math.floor(safe / 100) % 10;
  const totalSeconds = Math.floor(safe / 1000);
  const seconds = totalSeconds % 60;
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const hours = Math.floor(totalSeconds / 3600);
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${ss}.${tenths}`;
  return `${minutes}:${ss}.${tenths}`;
}
