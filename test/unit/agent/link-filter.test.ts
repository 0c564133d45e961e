import { describe, expect, it } from 'vitest';
import { LinkFilter, MIN_REORDER_WINDOW_MS } from '../../../src-node-agent/runtime/link-filter';
import { Prng } from '../../../src-node-agent/sim/prng';

const SEED = Number(process.env.FAULTLAB_SEED ?? 11);
const seeded = (): (() => number) => {
  const prng = new Prng(SEED);
  return () => prng.float();
};

describe('link fault filter', () => {
  it('passes everything at once on a link without rules', () => {
    const f = new LinkFilter(seeded());
    expect(f.planOutgoing('n2')).toEqual([0]);
    expect(f.allowIncoming('n2')).toBe(true);
    expect(f.activeFaults()).toBe(0);
  });

  it('a cut drops everything in its direction only, and counts the drops per peer', () => {
    const f = new LinkFilter(seeded());
    f.setRules('p1', [{ peer: 'n2', direction: 'out', cut: true }]);
    for (let i = 0; i < 5; i++) expect(f.planOutgoing('n2')).toEqual([]);
    expect(f.planOutgoing('n3')).toEqual([0]);
    expect(f.allowIncoming('n2')).toBe(true);
    expect(f.dropped('n2')).toBe(5);
    expect(f.takeDropped()).toEqual(new Map([['n2', 5]]));
    expect(f.takeDropped()).toEqual(new Map());
    f.setRules('p2', [{ peer: 'n3', direction: 'in', cut: true }]);
    expect(f.allowIncoming('n3')).toBe(false);
    expect(f.planOutgoing('n3')).toEqual([0]);
  });

  it('any cut wins over other rules for the same peer', () => {
    const f = new LinkFilter(seeded());
    f.setRules('slow', [{ peer: 'n2', direction: 'out', delay_ms: 50 }]);
    f.setRules('cut', [{ peer: 'n2', direction: 'out', cut: true }]);
    expect(f.planOutgoing('n2')).toEqual([]);
    expect(f.heal('cut')).toBe(1);
    expect(f.planOutgoing('n2')).toEqual([50]);
  });

  it('losses of several faults compound: a message must survive each', () => {
    const f = new LinkFilter(seeded());
    f.setRules('a', [{ peer: 'n2', direction: 'out', loss: 0.5 }]);
    f.setRules('b', [{ peer: 'n2', direction: 'out', loss: 0.5 }]);
    let passed = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (f.planOutgoing('n2').length > 0) passed++;
    // Survival 0.5 × 0.5 = 0.25.
    expect(passed / n).toBeGreaterThan(0.23);
    expect(passed / n).toBeLessThan(0.27);
    expect(f.dropped('n2')).toBe(n - passed);
  });

  it('incoming loss drops about that share', () => {
    const f = new LinkFilter(seeded());
    f.setRules('a', [{ peer: 'n2', direction: 'in', loss: 0.3 }]);
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) if (f.allowIncoming('n2')) allowed++;
    expect(allowed / 10_000).toBeGreaterThan(0.67);
    expect(allowed / 10_000).toBeLessThan(0.73);
  });

  it('duplicates send two copies at about the given rate', () => {
    const f = new LinkFilter(seeded());
    f.setRules('d', [{ peer: 'n2', direction: 'out', duplicate: 0.2 }]);
    let copies = 0;
    for (let i = 0; i < 10_000; i++) copies += f.planOutgoing('n2').length;
    expect(copies).toBeGreaterThan(11_800);
    expect(copies).toBeLessThan(12_200);
  });

  it('delay ± jitter stays in range; the largest delay of several faults applies', () => {
    const f = new LinkFilter(seeded());
    f.setRules('a', [{ peer: 'n2', direction: 'out', delay_ms: 20, jitter_ms: 5 }]);
    f.setRules('b', [{ peer: 'n2', direction: 'out', delay_ms: 100 }]);
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) seen.push(...f.planOutgoing('n2'));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(95);
    expect(Math.max(...seen)).toBeLessThanOrEqual(105);
    expect(new Set(seen.map((d) => Math.round(d))).size).toBeGreaterThan(5);
  });

  it('reorder holds some messages back by a random extra delay', () => {
    const f = new LinkFilter(seeded());
    f.setRules('r', [{ peer: 'n2', direction: 'out', reorder: 0.5 }]);
    const delays = Array.from({ length: 2000 }, () => f.planOutgoing('n2')[0] as number);
    const held = delays.filter((d) => d > 0);
    expect(held.length / delays.length).toBeGreaterThan(0.45);
    expect(held.length / delays.length).toBeLessThan(0.55);
    expect(Math.max(...held)).toBeLessThanOrEqual(MIN_REORDER_WINDOW_MS);
  });

  it('setRules replaces that fault’s rules; heal(null) heals every fault and says how many', () => {
    const f = new LinkFilter(seeded());
    f.setRules('a', [{ peer: 'n2', direction: 'out', cut: true }]);
    f.setRules('a', [{ peer: 'n3', direction: 'out', cut: true }]);
    expect(f.planOutgoing('n2')).toEqual([0]);
    expect(f.planOutgoing('n3')).toEqual([]);
    f.setRules('b', [{ peer: 'n2', direction: 'in', cut: true }]);
    expect(f.activeFaults()).toBe(2);
    expect(f.ruleCount()).toBe(2);
    expect(f.heal('nope')).toBe(0);
    expect(f.heal(null)).toBe(2);
    expect(f.activeFaults()).toBe(0);
    expect(f.planOutgoing('n3')).toEqual([0]);
    expect(f.allowIncoming('n2')).toBe(true);
  });
});
