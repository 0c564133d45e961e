import { describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../../src-main/api/run-view-schema';
import {
  DEFAULT_CATEGORIES,
  filterTimeline,
  indexNearTime,
} from '../../../src-renderer/lib/timeline-filter';

const entries: TimelineEntry[] = [
  {
    n: 1,
    t_ms: 100,
    node: 'n1',
    category: 'protocol',
    kind: 'leader-elected',
    text: 'view=1 leader=n1',
  },
  { n: 2, t_ms: 200, node: 'n2', category: 'routine', kind: 'executed', text: 'slot=1' },
  { n: 3, t_ms: 300, node: null, category: 'fault', kind: 'crash', text: 'crash n1 (command)' },
  { n: 4, t_ms: 400, node: 'n1', category: 'lifecycle', kind: 'killed', text: 'killed' },
];

describe('timeline filter', () => {
  it('hides routine events by default', () => {
    const shown = filterTimeline(entries, {
      node: null,
      categories: new Set(DEFAULT_CATEGORIES),
      text: '',
    });
    expect(shown.map((e) => e.n)).toEqual([1, 3, 4]);
  });

  it('filters by node, cluster-wide entries, and text in kind or text', () => {
    const all = new Set(['fault', 'lifecycle', 'protocol', 'routine', 'agent', 'note'] as const);
    expect(
      filterTimeline(entries, { node: 'n1', categories: all, text: '' }).map((e) => e.n),
    ).toEqual([1, 4]);
    expect(
      filterTimeline(entries, { node: '-', categories: all, text: '' }).map((e) => e.n),
    ).toEqual([3]);
    expect(
      filterTimeline(entries, { node: null, categories: all, text: 'CRASH' }).map((e) => e.n),
    ).toEqual([3]);
    expect(
      filterTimeline(entries, { node: null, categories: all, text: 'leader=n1' }).map((e) => e.n),
    ).toEqual([1]);
  });

  it('finds the entry at or just after a time', () => {
    expect(indexNearTime(entries, 250)).toBe(2);
    expect(indexNearTime(entries, 0)).toBe(0);
    expect(indexNearTime(entries, 10_000)).toBe(3);
  });
});
