import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLab } from '../../../src-main/labs/load-lab';
import { planFromLab, scriptedFaultsAfterEnd } from '../../../src-main/orchestrator/plan-from-lab';

const LAB = join(__dirname, '../../../labs/paxos-leader-crash/lab.yaml');

describe('a lab as a run plan', () => {
  it('leaves out the faults at or after the end of a shortened run, and says which', () => {
    const lab = { ...loadLab(LAB), duration_ms: 15_000 };
    // The lab scripts faults at 5, 10, 15 and 20 s: the one at the very end would be applied
    // and healed by the stop within moments, then judged on a cluster with no time to recover.
    expect(planFromLab(lab, { labPath: LAB }).faults.map((f) => f.at_ms)).toEqual([5_000, 10_000]);
    expect(scriptedFaultsAfterEnd(lab).map((f) => [f.action.type, f.at_ms])).toEqual([
      ['partition', 15_000],
      ['heal', 20_000],
    ]);
    const full = loadLab(LAB);
    expect(planFromLab(full, { labPath: LAB }).faults).toHaveLength(4);
    expect(scriptedFaultsAfterEnd(full)).toEqual([]);
  });
});
