import { describe, expect, it } from 'vitest';
import {
  chartRange,
  chartWindowFor,
  latestValue,
  lowerBound,
  shadeRects,
  windowPoints,
} from '../../../src-renderer/lib/chart-window';

describe('chart window', () => {
  const series = { t: [0, 250, 500, 750, 1000, 1250], v: [1, 2, 3, 4, 5, 6] };

  it('finds the first index at or after a time', () => {
    expect(lowerBound(series.t, 0)).toBe(0);
    expect(lowerBound(series.t, 600)).toBe(3);
    expect(lowerBound(series.t, 5000)).toBe(6);
  });

  it('returns the window in seconds, with one point before it so the line enters from the edge', () => {
    expect(windowPoints(series, 600, 1000)).toEqual([
      { x: 0.5, y: 3 },
      { x: 0.75, y: 4 },
      { x: 1, y: 5 },
    ]);
    expect(windowPoints({ t: [], v: [] }, 0, 1000)).toEqual([]);
  });

  it('breaks the line where samples stop for longer than a gap', () => {
    const gappy = { t: [0, 250, 5_000, 5_250], v: [1, 2, 3, 4] };
    const points = windowPoints(gappy, 0, 6_000);
    expect(points).toHaveLength(5);
    expect(points[2]!.x).toBeCloseTo(2.625, 6);
    expect(Number.isNaN(points[2]!.y)).toBe(true);
  });

  it('fits the window to a run shorter than 60 s, within 10 s and 60 s', () => {
    expect(chartWindowFor(30_000)).toBe(30_000);
    expect(chartWindowFor(5_000)).toBe(10_000);
    expect(chartWindowFor(600_000)).toBe(60_000);
    expect(chartWindowFor(null)).toBe(60_000);
    expect(chartRange(12_000, chartWindowFor(30_000))).toEqual({ from_ms: 0, to_ms: 30_000 });
  });

  it('slides a 60 s window that never starts before 0', () => {
    expect(chartRange(10_000)).toEqual({ from_ms: 0, to_ms: 60_000 });
    expect(chartRange(90_000)).toEqual({ from_ms: 30_000, to_ms: 90_000 });
  });

  it('clips fault periods to the window and runs open ones to now', () => {
    const periods = [
      { id: 'a', label: 'crash n1', type: 'crash', node: 'n1', from_ms: 1_000, to_ms: 4_000 },
      { id: 'b', label: 'partition', type: 'partition', node: null, from_ms: 8_000, to_ms: null },
      { id: 'c', label: 'old', type: 'pause', node: 'n2', from_ms: 0, to_ms: 500 },
    ];
    expect(shadeRects(periods, 2_000, 10_000, 9_000)).toEqual([
      { id: 'a', label: 'crash n1', type: 'crash', x0: 2, x1: 4, open: false },
      { id: 'b', label: 'partition', type: 'partition', x0: 8, x1: 9, open: true },
    ]);
  });

  it('reads the latest value', () => {
    expect(latestValue(series)).toBe(6);
    expect(latestValue({ t: [], v: [] })).toBeNull();
  });
});
