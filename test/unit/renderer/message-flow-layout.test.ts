import { describe, expect, it } from 'vitest';
import {
  FLOW_TOP,
  layoutMessageFlow,
  timeTicks,
} from '../../../src-renderer/lib/message-flow-layout';
import {
  brushWindow,
  shiftWindow,
  windowAround,
  windowEndingAt,
} from '../../../src-renderer/lib/time-brush';

describe('message flow layout', () => {
  const messages = [
    {
      mid: 'a',
      from: 'n1',
      to: 'n3',
      type: 'prepare',
      sent_ms: 1_000,
      received_ms: 1_500,
      dropped: false,
    },
    {
      mid: 'b',
      from: 'n3',
      to: 'n1',
      type: 'promise',
      sent_ms: 1_600,
      received_ms: null,
      dropped: true,
    },
    {
      mid: 'c',
      from: 'n2',
      to: 'n1',
      type: 'accept',
      sent_ms: 1_700,
      received_ms: null,
      dropped: false,
    },
  ];

  it('gives each node a lifeline and maps time downwards', () => {
    const layout = layoutMessageFlow(['n1', 'n2', 'n3'], messages, 1_000, 2_000, 620, 500);
    expect(layout.lanes.map((l) => l.node)).toEqual(['n1', 'n2', 'n3']);
    const [x1, x2, x3] = layout.lanes.map((l) => l.x);
    expect(x1! < x2! && x2! < x3!).toBe(true);
    const a = layout.arrows.find((m) => m.mid === 'a')!;
    expect(a).toMatchObject({ kind: 'delivered', x1: x1, x2: x3, y1: FLOW_TOP });
    // Received half way through the window: half way down the usable height.
    expect(a.y2).toBeCloseTo(FLOW_TOP + (500 - FLOW_TOP - 12) / 2, 6);
  });

  it('ends dropped messages half way to the receiver and keeps unseen receives as stubs', () => {
    const layout = layoutMessageFlow(['n1', 'n2', 'n3'], messages, 1_000, 2_000, 620, 500);
    const [x1, x2, x3] = layout.lanes.map((l) => l.x);
    const dropped = layout.arrows.find((m) => m.mid === 'b')!;
    expect(dropped.kind).toBe('dropped');
    expect(dropped.x2).toBeCloseTo((x3! + x1!) / 2, 6);
    const stub = layout.arrows.find((m) => m.mid === 'c')!;
    expect(stub.kind).toBe('in-flight');
    expect(Math.abs(stub.x2 - x2!)).toBeLessThan(Math.abs(x1! - x2!));
    expect(stub.y2).toBeLessThan(500 - 12);
  });

  it('adds lanes for senders it was not told about', () => {
    const layout = layoutMessageFlow(['n1'], messages, 1_000, 2_000, 600, 400);
    expect(layout.lanes.map((l) => l.node).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('puts time ticks on round numbers', () => {
    const ticks = timeTicks(1_000, 2_000, (t) => t);
    expect(ticks.map((t) => t.t_ms)).toEqual([1_000, 1_200, 1_400, 1_600, 1_800, 2_000]);
  });
});

describe('time brush', () => {
  it('centres windows and keeps them inside the run', () => {
    expect(windowAround(5_000, 1_000, 30_000)).toEqual({ from_ms: 4_500, to_ms: 5_500 });
    expect(windowAround(100, 1_000, 30_000)).toEqual({ from_ms: 0, to_ms: 1_000 });
    expect(windowAround(29_900, 1_000, 30_000)).toEqual({ from_ms: 29_000, to_ms: 30_000 });
    expect(windowEndingAt(12_000, 2_000)).toEqual({ from_ms: 10_000, to_ms: 12_000 });
    expect(windowEndingAt(500, 2_000)).toEqual({ from_ms: 0, to_ms: 2_000 });
  });

  it('turns a drag on the bar into a window, in either direction', () => {
    expect(brushWindow(300, 100, 1_000, 60_000)).toEqual({ from_ms: 6_000, to_ms: 18_000 });
    const tiny = brushWindow(500, 500, 1_000, 60_000);
    expect(tiny.to_ms - tiny.from_ms).toBeGreaterThan(0);
  });

  it('shifts by a fraction of the width', () => {
    expect(shiftWindow({ from_ms: 4_000, to_ms: 6_000 }, 0.5, 30_000)).toEqual({
      from_ms: 5_000,
      to_ms: 7_000,
    });
  });
});

describe('message flow tick labels', () => {
  it('uses enough decimals to tell ticks of short windows apart', async () => {
    const { tickLabel } = await import('../../../src-renderer/lib/message-flow-layout');
    expect(tickLabel(15_850, 250)).toBe('15.85 s');
    expect(tickLabel(15_800, 5_000)).toBe('15.8 s');
    expect(tickLabel(60_000, 60_000)).toBe('60 s');
  });
});
