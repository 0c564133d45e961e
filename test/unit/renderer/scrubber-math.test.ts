import { describe, expect, it } from 'vitest';
import {
  FAULT_JUMP_LEAD_MS,
  clampTime,
  faultMarks,
  formatClock,
  fractionOf,
  nextFaultTime,
  previousFaultTime,
  timeAtFraction,
} from '../../../src-renderer/lib/scrubber-math';

describe('scrubber math', () => {
  it('maps times to fractions and back, clamped to the recording', () => {
    expect(fractionOf(15_000, 30_000)).toBe(0.5);
    expect(fractionOf(45_000, 30_000)).toBe(1);
    expect(fractionOf(5, 0)).toBe(0);
    expect(timeAtFraction(0.25, 40_000)).toBe(10_000);
    expect(timeAtFraction(-1, 40_000)).toBe(0);
    expect(clampTime(Number.NaN, 10)).toBe(0);
  });

  it('jumps to just before the next fault, and on past it when already there', () => {
    const faults = [5_000, 12_000, 20_000];
    expect(nextFaultTime(faults, 0)).toBe(5_000 - FAULT_JUMP_LEAD_MS);
    // Sitting at the lead-in of the first fault, "next" must move on, not stay.
    expect(nextFaultTime(faults, 5_000 - FAULT_JUMP_LEAD_MS)).toBe(12_000 - FAULT_JUMP_LEAD_MS);
    expect(nextFaultTime(faults, 20_000)).toBeNull();
    expect(nextFaultTime([], 0)).toBeNull();
  });

  it('jumps back to the previous fault, skipping the one it sits on', () => {
    const faults = [5_000, 12_000, 20_000];
    expect(previousFaultTime(faults, 15_000)).toBe(12_000 - FAULT_JUMP_LEAD_MS);
    expect(previousFaultTime(faults, 12_000 - FAULT_JUMP_LEAD_MS)).toBe(5_000 - FAULT_JUMP_LEAD_MS);
    expect(previousFaultTime(faults, 3_000)).toBeNull();
  });

  it('merges fault marks that would overlap on the scrubber', () => {
    const marks = faultMarks([10_000, 10_010, 50_000, 10_020], 100_000);
    expect(marks).toEqual([
      { t_ms: 10_000, percent: 10, count: 3 },
      { t_ms: 50_000, percent: 50, count: 1 },
    ]);
  });

  it('formats clocks with tenths, and hours when needed', () => {
    expect(formatClock(0)).toBe('0:00.0');
    expect(formatClock(65_340)).toBe('1:05.3');
    expect(formatClock(3_723_000)).toBe('1:02:03.0');
    expect(formatClock(-5)).toBe('0:00.0');
  });
});
