import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../../src-node-agent/sim/run';
import { paxosStack } from '../../../src-node-agent/stacks/paxos';

const seed = Number(process.env['SEED'] ?? 20261122);

describe('the simulator is deterministic', () => {
  it('the same seed gives the same event log and history, hash for hash', () => {
    console.log(`seed=${seed} (set SEED=… to reproduce another)`);
    const options = { stack: paxosStack, nodes: 5, seed, heal_ms: 2_000, thinkTime_ms: 5 } as const;
    const a = runSimulation(options);
    const b = runSimulation(options);
    expect(a.schedule.length).toBeGreaterThan(2); // the nemesis did something
    expect(a.log.length).toBeGreaterThan(1000);
    expect(b.hash()).toBe(a.hash());
    expect(b.log.length).toBe(a.log.length);
    expect(b.history).toEqual(a.history);
  });

  it('a different seed gives a different run', () => {
    const a = runSimulation({ stack: paxosStack, nodes: 5, seed, heal_ms: 1_000, thinkTime_ms: 5 });
    const b = runSimulation({
      stack: paxosStack,
      nodes: 5,
      seed: seed + 1,
      heal_ms: 1_000,
      thinkTime_ms: 5,
    });
    expect(b.hash()).not.toBe(a.hash());
  });

  it('replaying a recorded schedule reproduces the run', () => {
    const a = runSimulation({ stack: paxosStack, nodes: 5, seed, heal_ms: 1_500, thinkTime_ms: 5 });
    const b = runSimulation({
      stack: paxosStack,
      nodes: 5,
      seed,
      heal_ms: 1_500,
      thinkTime_ms: 5,
      schedule: a.schedule,
    });
    expect(b.hash()).toBe(a.hash());
  });
});
