import { describe, expect, it } from 'vitest';
import {
  layoutTopology,
  pairStyle,
  partitionGroups,
  trimmedSegment,
} from '../../../src-renderer/lib/topology-layout';

const nodes = [
  { id: 'n1', role: 'replica' as const },
  { id: 'n2', role: 'replica' as const },
  { id: 'n3', role: 'replica' as const },
  { id: 'n4', role: 'replica' as const },
  { id: 'w1', role: 'workload' as const },
];

describe('topology layout', () => {
  it('puts replicas on a circle, the first at the top, and clients in a side column', () => {
    const layout = layoutTopology(nodes, [], 400, 300);
    const at = new Map(layout.nodes.map((n) => [n.id, n]));
    const n1 = at.get('n1')!;
    const n3 = at.get('n3')!;
    expect(n1.y).toBeLessThan(at.get('n2')!.y);
    // n1 and n3 are opposite on a 4-circle: same x, mirrored y around the centre.
    expect(n3.x).toBeCloseTo(n1.x, 6);
    expect((n1.y + n3.y) / 2).toBeCloseTo(150, 6);
    expect(at.get('w1')!.x).toBeLessThan(
      Math.min(...layout.nodes.filter((n) => n.role === 'replica').map((n) => n.x)),
    );
    // One line per replica pair: 4 choose 2.
    expect(layout.links).toHaveLength(6);
  });

  it('carries both directions of a pair, so one-way cuts can be drawn as arrows', () => {
    const layout = layoutTopology(
      nodes,
      [{ from: 'n2', to: 'n1', state: 'cut', detail: 'cut n2 → n1' }],
      400,
      300,
    );
    const pair = layout.links.find((l) => l.a === 'n1' && l.b === 'n2')!;
    expect(pair).toMatchObject({ ab: 'ok', ba: 'cut' });
    expect(pairStyle(pair)).toEqual({ state: 'cut', oneWay: 'ba' });
    expect(pairStyle({ ab: 'cut', ba: 'cut' })).toEqual({ state: 'cut', oneWay: null });
    expect(pairStyle({ ab: 'degraded', ba: 'ok' })).toEqual({ state: 'degraded', oneWay: null });
    expect(pairStyle({ ab: 'ok', ba: 'ok' })).toEqual({ state: 'ok', oneWay: null });
  });

  it('stops link segments at the node rims', () => {
    const [p, q] = trimmedSegment({ x: 0, y: 0 }, { x: 100, y: 0 }, 10);
    expect(p).toEqual({ x: 10, y: 0 });
    expect(q).toEqual({ x: 90, y: 0 });
  });

  it('partitions the selection against the other replicas, and refuses empty sides', () => {
    expect(partitionGroups(['n1', 'n2', 'n3', 'n4'], new Set(['n3', 'n1']))).toEqual([
      ['n1', 'n3'],
      ['n2', 'n4'],
    ]);
    expect(partitionGroups(['n1', 'n2'], new Set())).toBeNull();
    expect(partitionGroups(['n1', 'n2'], new Set(['n1', 'n2']))).toBeNull();
  });
});
