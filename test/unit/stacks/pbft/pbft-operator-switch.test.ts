import { describe, expect, it } from 'vitest';
import {
  behaviourEvents,
  completedBetween,
  expectSafe,
  pbftSim,
  protocolEvents,
  testSeed,
} from './pbft-sim';

/**
 * The operator's switch (core/faults.ts 'byzantine'), as the dashboard and lab files use it:
 * a replica that was honest turns Byzantine while the cluster runs, and later honest again.
 */
describe('PBFT: turning a replica Byzantine while it runs', () => {
  it('a primary that starts equivocating mid-run is replaced by a view change; safety holds and requests commit again', () => {
    const seed = testSeed(11, 'operator-switch equivocate');
    const sim = pbftSim({
      seed,
      faults: [{ at_ms: 300, fault: { type: 'byzantine', node: 'n1', behaviour: 'equivocate' } }],
    });
    sim.runUntil(3_000_000);
    expect(behaviourEvents(sim, 'equivocate')).toBeGreaterThan(0);
    const installed = protocolEvents(sim).filter(
      (e) => e.event.kind === 'view-installed' && (e.event as { view: number }).view >= 1,
    );
    expect(installed.length, 'a later view is installed').toBeGreaterThan(0);
    expect(completedBetween(sim, 1_500, 3_000), 'requests commit in the new view').toBeGreaterThan(
      0,
    );
    expectSafe(sim);
  });

  it('a replica turned honest again resumes reporting executions without breaking agreement', () => {
    const seed = testSeed(12, 'operator-switch lie then honest');
    const sim = pbftSim({
      seed,
      faults: [
        { at_ms: 200, fault: { type: 'byzantine', node: 'n3', behaviour: 'lie' } },
        { at_ms: 1_000, fault: { type: 'byzantine', node: 'n3', behaviour: null } },
      ],
    });
    sim.runUntil(2_500_000);
    expect(behaviourEvents(sim, 'honest')).toBe(1);
    const n3Executed = protocolEvents(sim).filter(
      (e) => e.node === 'n3' && e.event.kind === 'executed' && sim.log.length > 0,
    );
    expect(n3Executed.length, 'n3 reports executions again').toBeGreaterThan(0);
    expectSafe(sim);
  });

  it('refuses a behaviour PBFT does not have, naming the ones it has', () => {
    const sim = pbftSim({
      faults: [{ at_ms: 10, fault: { type: 'byzantine', node: 'n2', behaviour: 'teleport' } }],
    });
    expect(() => sim.runUntil(50_000)).toThrow(
      /no behaviour teleport; expected one of silent, equivocate/,
    );
  });
});
