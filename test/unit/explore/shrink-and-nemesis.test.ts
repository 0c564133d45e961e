import { describe, expect, it } from 'vitest';
import type { TimedFault } from '../../../src-node-agent/core/faults';
import { randomSchedule } from '../../../src-node-agent/sim/nemesis';
import { Prng } from '../../../src-node-agent/sim/prng';
import { shrinkSchedule } from '../../../src-main/explore/shrink-schedule';

const seed = Number(process.env['SEED'] ?? 99);
const servers = ['n1', 'n2', 'n3', 'n4', 'n5'];

describe('shrinkSchedule', () => {
  it('finds the two faults that together cause a failure, keeping the final heal', () => {
    console.log(`seed=${seed}`);
    const schedule = randomSchedule(new Prng(seed), {
      servers,
      start_ms: 0,
      end_ms: 20_000,
      meanInterval_ms: 300,
    });
    expect(schedule.length).toBeGreaterThan(20);
    const a = schedule[3] as TimedFault;
    const b = schedule[schedule.length - 4] as TimedFault;
    const fails = (s: readonly TimedFault[]): boolean => s.includes(a) && s.includes(b);
    const { schedule: shrunk } = shrinkSchedule(schedule, fails, 500);
    expect(shrunk).toEqual([a, b, schedule[schedule.length - 1]]);
  });
});

describe('randomSchedule (the nemesis)', () => {
  it('draws every kind of fault, never recovers a node that is up, and ends healed', () => {
    const kinds = new Set<string>();
    for (let s = seed; s < seed + 50; s++) {
      const schedule = randomSchedule(new Prng(s), { servers, start_ms: 100, end_ms: 5_000 });
      const crashed = new Set<string>();
      for (const { fault } of schedule) {
        kinds.add(fault.type === 'partition' ? `partition ${fault.shape}` : fault.type);
        if (fault.type === 'crash') crashed.add(fault.node);
        if (fault.type === 'recover') expect(crashed.delete(fault.node)).toBe(true);
      }
      expect(schedule[schedule.length - 1]).toEqual({ at_ms: 5_000, fault: { type: 'heal-all' } });
    }
    for (const k of [
      'crash',
      'recover',
      'pause',
      'resume',
      'cut',
      'degrade',
      'heal-network',
      'restore-links',
      'partition isolate',
      'partition halves',
      'partition majority-minority',
      'partition bridge',
      'partition groups',
    ]) {
      expect(kinds, k).toContain(k);
    }
  });
});
