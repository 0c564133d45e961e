import { describe, expect, it } from 'vitest';
import { NetworkModel, LAN_LINK } from '../../../src-node-agent/sim/network';
import { Prng } from '../../../src-node-agent/sim/prng';
import { EventQueue, type Scheduled } from '../../../src-node-agent/sim/event-queue';

const servers = ['n1', 'n2', 'n3', 'n4', 'n5'];
const net = () => new NetworkModel(servers, LAN_LINK, new Prng(1));

describe('NetworkModel', () => {
  it('a bridge partition connects the bridge node to both sides and cuts the sides apart', () => {
    const n = net();
    n.apply({
      type: 'partition',
      shape: 'bridge',
      groups: [
        ['n1', 'n2', 'n3'],
        ['n3', 'n4', 'n5'],
      ],
    });
    expect(n.isConnected('n1', 'n3')).toBe(true);
    expect(n.isConnected('n5', 'n3')).toBe(true);
    expect(n.isConnected('n1', 'n5')).toBe(false);
    expect(n.plan('n2', 'n4')).toEqual([]);
    expect(n.stats.droppedPartition).toBe(1);
  });
  it('a one-way cut drops one direction only; heal restores it', () => {
    const n = net();
    n.apply({ type: 'cut', from: 'n1', to: 'n2' });
    expect(n.isConnected('n1', 'n2')).toBe(false);
    expect(n.isConnected('n2', 'n1')).toBe(true);
    n.apply({ type: 'heal-network' });
    expect(n.isConnected('n1', 'n2')).toBe(true);
  });
  it('clients are never partitioned', () => {
    const n = net();
    n.apply({ type: 'partition', shape: 'isolate', groups: [['n1'], ['n2', 'n3', 'n4', 'n5']] });
    expect(n.isConnected('c1', 'n1')).toBe(true);
    expect(n.plan('c1', 'n1')).toHaveLength(1);
  });
  it('loss 1 drops everything, duplicate 1 delivers twice, delays stay inside the profile', () => {
    const n = net();
    n.apply({ type: 'degrade', profile: { loss: 1 } });
    expect(n.plan('n1', 'n2')).toEqual([]);
    n.apply({ type: 'degrade', profile: { duplicate: 1, delay_ms: 5, jitter_ms: 1 } });
    for (let i = 0; i < 100; i++) {
      const d = n.plan('n1', 'n2');
      expect(d).toHaveLength(2);
      for (const x of d) expect(x >= 4000 && x <= 6000).toBe(true);
    }
    n.apply({ type: 'restore-links' });
    expect(n.plan('n1', 'n2')).toHaveLength(1);
  });
  it('a fault naming an unknown node is an error that names it', () => {
    expect(() => net().apply({ type: 'cut', from: 'n1', to: 'n9' })).toThrow(/n9/);
  });
});

describe('EventQueue', () => {
  it('pops in time order and breaks ties by insertion order', () => {
    const q = new EventQueue<Scheduled & { id: number }>(100);
    const times = [5, 1, 5, 3, 1, 9, 5];
    times.forEach((at_us, id) => q.push({ at_us, seq: 0, id }));
    const out: number[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.id);
    expect(out).toEqual([1, 4, 3, 0, 2, 6, 5]);
  });
  it('refuses to grow past its capacity', () => {
    const q = new EventQueue<Scheduled>(2);
    q.push({ at_us: 1, seq: 0 });
    q.push({ at_us: 1, seq: 0 });
    expect(() => q.push({ at_us: 1, seq: 0 })).toThrow(/full/);
  });
});

describe('Prng', () => {
  it('is reproducible per seed and forks independent streams', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    expect(Array.from({ length: 5 }, () => a.int(1000))).toEqual(
      Array.from({ length: 5 }, () => b.int(1000)),
    );
    const f1 = new Prng(42).fork('network');
    const f2 = new Prng(42).fork('nemesis');
    expect(Array.from({ length: 5 }, () => f1.int(1 << 30))).not.toEqual(
      Array.from({ length: 5 }, () => f2.int(1 << 30)),
    );
  });
});
