import type { TimelineCategory, TimelineEntry } from '../../src-main/api/run-view-schema';

export interface TimelineFilter {
  /** null: every node. '-' picks entries not about one node (faults, notes). */
  readonly node: string | null;
  readonly categories: ReadonlySet<TimelineCategory>;
  /** Substring of kind or text, case-insensitive; '' matches all. */
  readonly text: string;
}

/** By default routine events (executed, committed) are hidden: they drown out the news. */
export const DEFAULT_CATEGORIES: readonly TimelineCategory[] = [
  'fault',
  'lifecycle',
  'protocol',
  'agent',
  'note',
];

export function filterTimeline(
  entries: readonly TimelineEntry[],
  filter: TimelineFilter,
): TimelineEntry[] {
  const needle = filter.text.trim().toLowerCase();
  return entries.filter((e) => {
    if (!filter.categories.has(e.category)) return false;
    if (filter.node !== null) {
      if (filter.node === '-' ? e.node !== null : e.node !== filter.node) return false;
    }
    if (
      needle !== '' &&
      !e.kind.toLowerCase().includes(needle) &&
      !e.text.toLowerCase().includes(needle)
    ) {
      return false;
    }
    return true;
  });
}

/** Index of the entry nearest to t_ms (entries in time order), for "scroll to this moment". */
export function indexNearTime(entries: readonly TimelineEntry[], t_ms: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as TimelineEntry).t_ms < t_ms) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, Math.max(0, entries.length - 1));
}
