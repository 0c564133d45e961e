import { describe, expect, it } from 'vitest';
import { expectSafe, paxosSim } from '../../support/paxos-sim';
import { completedBetween } from '../../support/paxos-sim';

const garbageMessages: unknown[] = [
  null,
  42,
  'hello',
  [],
  {},
  { t: 'proposal' },
  { t: 'proposal', view: -1, slot: 1, cmd: { type: 'noop' }, commit: 0 },
  { t: 'proposal', view: 0, slot: 0.5, cmd: { type: 'noop' }, commit: 0 },
  { t: 'proposal', view: 0, slot: 1, cmd: { type: 'batch', reqs: [] }, commit: 0 },
  { t: 'accept', view: '0', slot: 1 },
  { t: 'accept', view: 0, slot: 1, extra: true },
  { t: 'teleport', view: 0 },
  { t: 'prepare-ok', view: 1, entries: 'all of them', snapshot: null },
  { t: 'heartbeat', view: Number.POSITIVE_INFINITY, commit: 0 },
  {
    t: 'prepare-ok',
    view: 1,
    entries: new Array(300_000).fill({ slot: 1, view: 0, cmd: { type: 'noop' } }),
    snapshot: null,
  },
];

const garbageRequests: unknown[] = [
  { client: 'c1', seq: 1 },
  { client: 'c1', seq: 1, op: { f: 'drop-table', key: 'k' } },
  { client: 'c1', seq: 0, op: { f: 'get', key: 'k' } },
  { client: '', seq: 1, op: { f: 'get', key: 'k' } },
  { client: 'c1', seq: 1, op: { f: 'put', key: 'k', value: { nested: true } } },
  { client: 'c1', seq: 1, op: { f: 'put', key: 'x'.repeat(10_000), value: 1 } },
  { client: 'c1', seq: 1, op: { f: 'add', key: 'k', delta: Number.NaN } },
];

describe('bad input never crashes a node', () => {
  it('malformed messages and requests are rejected by schema, counted, and the cluster keeps serving', () => {
    const sim = paxosSim({ seed: 7 });
    sim.runUntil(300_000);
    for (const node of sim.servers) {
      for (const g of garbageMessages) sim.injectRaw(node, 'n2', g);
      for (const g of garbageRequests) sim.injectRaw(node, 'c1', g, true);
      sim.injectRaw(node, 'mallory', { t: 'accept', view: 0, slot: 1 }); // not a server
    }
    sim.runUntil(1_500_000);
    const expected = sim.servers.length * (garbageMessages.length + garbageRequests.length + 1);
    expect(sim.rejectedInputs()).toBe(expected);
    const rejected = sim.log.filter((r) => r.type === 'rejected');
    expect(rejected).toHaveLength(expected);
    expect(rejected.some((r) => r.type === 'rejected' && r.reason.includes('not a server'))).toBe(
      true,
    );
    expect(completedBetween(sim, 400, 1_500)).toBeGreaterThan(100);
    expectSafe(sim);
  });

  it('with every message validated, a normal run rejects nothing', () => {
    const sim = paxosSim({ seed: 8, validateMessages: true });
    sim.runUntil(1_000_000);
    expect(sim.rejectedInputs()).toBe(0);
    expect(completedBetween(sim, 0, 1_000)).toBeGreaterThan(100);
    expectSafe(sim);
  });
});
