/** Claims of seed 002 checked on a whole simulated cluster, with scripted faults. */
import { describe, expect, it } from 'vitest';
import { completedBetween, expectSafe, paxosSim, protocolEvents } from '../../../support/paxos-sim';

describe('Multi-Paxos cluster in the simulator', () => {
  it('slide 7–8: if the leader fails another leader is elected, and ordering stays safe', () => {
    const sim = paxosSim({ faults: [{ at_ms: 500, fault: { type: 'crash', node: 'n1' } }] });
    sim.runUntil(3_000_000);
    const elected = protocolEvents(sim).filter(
      (e) => e.event.kind === 'leader-elected' && e.node !== 'n1',
    );
    expect(elected.length).toBeGreaterThanOrEqual(1);
    expect(completedBetween(sim, 1_500, 3_000)).toBeGreaterThan(100);
    expectSafe(sim);
  });

  it('slide 20: only a majority is needed to make progress; without one, nothing is ordered', () => {
    const sim = paxosSim({
      faults: [
        { at_ms: 300, fault: { type: 'crash', node: 'n4' } },
        { at_ms: 300, fault: { type: 'crash', node: 'n5' } },
        { at_ms: 1_000, fault: { type: 'crash', node: 'n3' } },
        { at_ms: 2_000, fault: { type: 'recover', node: 'n3' } },
      ],
    });
    sim.runUntil(4_000_000);
    expect(completedBetween(sim, 400, 1_000)).toBeGreaterThan(50); // 3 of 5 up
    expect(completedBetween(sim, 1_050, 2_000)).toBe(0); // 2 of 5 up
    expect(completedBetween(sim, 2_000, 4_000)).toBeGreaterThan(50); // majority back
    expectSafe(sim);
  });

  it('slide 19: a server that is disconnected and reconnected repeatedly cannot disrupt the others', () => {
    const faults = [];
    for (let i = 0; i < 5; i++) {
      faults.push({
        at_ms: 300 + i * 600,
        fault: {
          type: 'partition' as const,
          shape: 'isolate' as const,
          groups: [['n5'], ['n1', 'n2', 'n3', 'n4']],
        },
      });
      faults.push({ at_ms: 600 + i * 600, fault: { type: 'heal-network' as const } });
    }
    const sim = paxosSim({ faults });
    sim.runUntil(3_500_000);
    const changes = protocolEvents(sim).filter((e) => e.event.kind === 'view-change');
    expect(changes.filter((e) => e.node === 'n5').length).toBeGreaterThan(0);
    expect(changes.filter((e) => e.node !== 'n5')).toEqual([]);
    expectSafe(sim);
  });

  it('crash-recovery from stable storage: a replica restarted mid-run rejoins and agrees', () => {
    const sim = paxosSim({
      faults: [
        { at_ms: 400, fault: { type: 'crash', node: 'n2' } },
        { at_ms: 900, fault: { type: 'recover', node: 'n2' } },
        { at_ms: 1_200, fault: { type: 'crash', node: 'n1' } },
        { at_ms: 1_700, fault: { type: 'recover', node: 'n1' } },
      ],
    });
    sim.runUntil(3_000_000);
    const recovered = protocolEvents(sim)
      .filter((e) => e.event.kind === 'recovered')
      .map((e) => e.node);
    expect(recovered).toEqual(['n2', 'n1']);
    const statuses = sim.statuses();
    const executed = Array.from(statuses.values()).map((s) => s.executed);
    expect(Math.max(...executed) - Math.min(...executed)).toBeLessThan(50);
    expectSafe(sim);
  });

  it('slide 15: a majority that recovers together from stable storage elects a leader and makes progress', () => {
    const all = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const sim = paxosSim({
      faults: [
        ...all.map((node) => ({ at_ms: 300, fault: { type: 'crash' as const, node } })),
        ...['n1', 'n2', 'n3'].map((node) => ({
          at_ms: 600,
          fault: { type: 'recover' as const, node },
        })),
      ],
    });
    sim.runUntil(3_000_000);
    expect(completedBetween(sim, 700, 3_000)).toBeGreaterThan(50);
    expectSafe(sim);
  });

  it('log compaction: a replica that missed more than a snapshot catches up by snapshot transfer', () => {
    const sim = paxosSim({
      params: { snapshotEvery: 50 },
      faults: [
        { at_ms: 100, fault: { type: 'crash', node: 'n5' } },
        { at_ms: 2_000, fault: { type: 'recover', node: 'n5' } },
      ],
    });
    sim.runUntil(3_000_000);
    const n5 = protocolEvents(sim).filter((e) => e.node === 'n5');
    expect(n5.some((e) => e.event.kind === 'snapshot-installed')).toBe(true);
    for (const status of sim.statuses().values()) {
      expect(status['logSize'] as number).toBeLessThanOrEqual(50 + 64);
    }
    const { agreementSlots } = expectSafe(sim);
    expect(agreementSlots).toBeGreaterThan(200);
  });

  it('batching: under load the leader orders many requests per slot', () => {
    // Many keys keep per-key concurrency low enough for an exact linearizability check.
    const sim = paxosSim({ clients: 40, keys: 400, thinkTime_ms: 0, params: { maxInFlight: 4 } });
    sim.runUntil(1_000_000);
    const batched = protocolEvents(sim).filter(
      (e) => e.event.kind === 'committed' && e.event.requests > 1,
    );
    expect(batched.length).toBeGreaterThan(10);
    expectSafe(sim);
  });

  it('message loss, duplication and reordering do not break safety or progress', () => {
    const sim = paxosSim({
      faults: [
        {
          at_ms: 200,
          fault: {
            type: 'degrade',
            profile: { loss: 0.2, duplicate: 0.2, reorder: 0.3, delay_ms: 2, jitter_ms: 2 },
          },
        },
        { at_ms: 2_000, fault: { type: 'restore-links' } },
      ],
    });
    sim.runUntil(3_000_000);
    expect(sim.network.stats.droppedLoss).toBeGreaterThan(100);
    expect(sim.network.stats.duplicated).toBeGreaterThan(100);
    expect(completedBetween(sim, 2_000, 3_000)).toBeGreaterThan(50);
    expectSafe(sim);
  });

  it('a one-way cut from the leader makes its followers elect a new one', () => {
    const sim = paxosSim({
      faults: [
        { at_ms: 300, fault: { type: 'cut', from: 'n1', to: 'n2' } },
        { at_ms: 300, fault: { type: 'cut', from: 'n1', to: 'n3' } },
        { at_ms: 300, fault: { type: 'cut', from: 'n1', to: 'n4' } },
        { at_ms: 300, fault: { type: 'cut', from: 'n1', to: 'n5' } },
      ],
    });
    sim.runUntil(2_500_000);
    const leaders = protocolEvents(sim)
      .filter((e) => e.event.kind === 'leader-elected')
      .map((e) => e.node);
    expect(leaders[0]).toBe('n1');
    expect(leaders.slice(1).length).toBeGreaterThan(0);
    expect(leaders.slice(1)).not.toContain('n1');
    expect(completedBetween(sim, 1_500, 2_500)).toBeGreaterThan(50);
    expectSafe(sim);
  });
});
