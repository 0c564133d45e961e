import { describe, expect, it } from 'vitest';
import { scrollTopForEnd, visibleRows } from '../../../src-renderer/lib/virtual-rows';

describe('virtual rows', () => {
  it('renders only the rows in view plus overscan, with spacers for the rest', () => {
    const r = visibleRows(2_600, 520, 26, 24_000, 5);
    expect(r.start).toBe(95);
    expect(r.end).toBe(100 + 21 + 5);
    expect(r.padTop).toBe(95 * 26);
    expect(r.padBottom).toBe((24_000 - r.end) * 26);
    // The DOM stays small however long the list.
    expect(r.end - r.start).toBeLessThan(40);
  });

  it('clamps at both ends and handles an empty list', () => {
    expect(visibleRows(0, 500, 25, 3)).toEqual({ start: 0, end: 3, padTop: 0, padBottom: 0 });
    expect(visibleRows(-100, 500, 25, 0)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
    expect(() => visibleRows(0, 100, 0, 5)).toThrow(/rowHeight/);
  });

  it('scrolls to the newest row', () => {
    expect(scrollTopForEnd(500, 25, 100)).toBe(2_000);
    expect(scrollTopForEnd(500, 25, 3)).toBe(0);
  });
});
