import { describe, expect, it } from 'vitest';
import { Cluster, put } from './pbft-harness';
import { pbftSim, safetyProblem, testSeed } from './pbft-sim';

describe('two lying replicas (regression: npm run sim -- --stack pbft --nodes 7 --byzantine random --seed 55)', () => {
  it('a liar echoes a vote only when it is news, so two liars do not echo each other forever', () => {
    // Each liar answered every PREPARE/COMMIT it received with a PREPARE and a COMMIT; two
    // liars answered each other's answers, doubling the messages on every round trip.
    const c = new Cluster({ byzantine: { n2: 'lie', n3: 'lie' } });
    c.request('n1', put('c1', 1, 'x', 'A'));
    c.deliver(undefined, 10_000);
    // Per peer a replica casts one PREPARE and one COMMIT; a liar adds at most one echo of
    // each kind per vote it learns, so one request costs O(n^2) messages, not an unbounded
    // number.
    expect(c.sent.length).toBeLessThan(100);
    expect(c.replica('n1').inspect().executed).toBe(1);
  });

  it('at n = 7 two liars (f = 2) do not stop the correct replicas or flood the network', () => {
    const seed = testSeed(55, 'pbft n=7 two liars');
    const sim = pbftSim({
      seed,
      nodes: 7,
      clients: 2,
      params: { byzantine: { n2: 'lie', n7: 'lie' } },
    });
    sim.runUntil(300_000);
    expect(safetyProblem(sim)).toBeNull();
    const ops = sim.completedOps();
    expect(ops).toBeGreaterThan(20);
    // Fault-free, a request costs a bounded number of deliveries (here a few hundred).
    expect(sim.deliveries / ops).toBeLessThan(1_000);
  });
});
