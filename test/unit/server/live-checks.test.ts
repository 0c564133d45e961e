import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src-main/record/schema';
import { LiveChecks, PROGRESS_WINDOW_MS } from '../../../src-main/server/run/live-checks';

/** The live verdicts a running dashboard shows, fed records as the agents would send them. */

let seq = 0;
function metrics(t_ms: number, ops: number, node = 'w1'): RunRecord {
  return {
    t_ms,
    type: 'metrics',
    node,
    incarnation: 1,
    seq: ++seq,
    raw_ms: t_ms,
    interval_ms: 500,
    ops,
    latency_us: null,
    links: {},
    rejected: 0,
  } as RunRecord;
}

function executed(t_ms: number, node: string, slot: number, digest: string): RunRecord {
  return {
    t_ms,
    type: 'protocol',
    node,
    incarnation: 1,
    seq: ++seq,
    raw_ms: t_ms,
    event: { kind: 'executed', slot, digest },
  };
}

const byName = (checks: ReturnType<LiveChecks['evaluate']>, name: string) =>
  checks.find((c) => c.name === name);

describe('live checks: progress', () => {
  it('is undecided until the workload has had one full window, even with zero-op metrics', () => {
    const checks = new LiveChecks(new Set(['w1']));
    checks.onRecord(metrics(100, 0));
    expect(byName(checks.evaluate(300, []), 'progress')?.verdict).toBe('unknown');
    checks.onRecord(metrics(100 + PROGRESS_WINDOW_MS + 500, 0));
    expect(byName(checks.evaluate(100 + PROGRESS_WINDOW_MS + 500, []), 'progress')?.verdict).toBe(
      'fail',
    );
  });

  it('passes with operations in the window, and a stall during a fault is not a failure', () => {
    const checks = new LiveChecks(new Set(['w1']));
    for (let t = 0; t <= 5_000; t += 500) checks.onRecord(metrics(t, 50));
    const ok = byName(checks.evaluate(5_000, []), 'progress');
    expect(ok?.verdict).toBe('pass');
    expect(ok?.measured).toBeGreaterThan(0);
    for (let t = 5_500; t <= 10_000; t += 500) checks.onRecord(metrics(t, 0));
    expect(byName(checks.evaluate(10_000, ['crash n1']), 'progress')?.verdict).toBe('unknown');
    expect(byName(checks.evaluate(10_000, []), 'progress')?.verdict).toBe('fail');
  });

  it('ignores metrics of replicas (only the workload completes operations)', () => {
    const checks = new LiveChecks(new Set(['w1']));
    checks.onRecord(metrics(0, 0));
    for (let t = 0; t <= 6_000; t += 500) checks.onRecord(metrics(t, 99, 'n1'));
    expect(byName(checks.evaluate(6_000, []), 'progress')?.verdict).toBe('fail');
  });
});

describe('live checks: agreement', () => {
  it('passes while every node executes the same command in each slot', () => {
    const checks = new LiveChecks(new Set(['w1']));
    for (const node of ['n1', 'n2', 'n3']) checks.onRecord(executed(10, node, 1, 'put-a'));
    expect(byName(checks.evaluate(10, []), 'agreement')?.verdict).toBe('pass');
  });

  it('fails on a broken history: two nodes executed different commands in one slot', () => {
    const checks = new LiveChecks(new Set(['w1']));
    checks.onRecord(executed(10, 'n1', 7, 'put-a'));
    checks.onRecord(executed(11, 'n2', 7, 'put-b'));
    const verdict = byName(checks.evaluate(20, []), 'agreement');
    expect(verdict?.verdict).toBe('fail');
    expect(verdict?.detail).toMatch(/slot 7: n1 executed put-a, n2 executed put-b/);
  });
});
