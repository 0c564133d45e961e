import { describe, expect, it } from 'vitest';
import { checkRecording } from '../../../src-main/check/check-recording';
import type { CheckResult, RecordedHistoryEntry, RunRecord } from '../../../src-main/record/schema';
import { goodRecording } from '../../support/recording-fixture';

const CHECKED_AT = '2025-11-22T10:00:05.000Z';

function byName(checks: readonly CheckResult[], name: string): CheckResult {
  const check = checks.find((c) => c.name === name);
  if (check === undefined) throw new Error(`no check named ${name}`);
  return check;
}

describe('checkRecording', () => {
  it('passes a healthy recording, with numbers in every detail', () => {
    const rec = goodRecording();
    const report = checkRecording(rec, rec.lab, { checkedAt: CHECKED_AT });
    expect(report.checks.map((c) => [c.name, c.verdict])).toEqual([
      ['linearizable', 'pass'],
      ['agreement', 'pass'],
      ['progress-after-fault', 'pass'],
      ['min-throughput', 'pass'],
      ['sequence-integrity', 'pass'],
    ]);
    expect(report).toMatchObject({ schema: 1, verdict: 'pass', checkedAt: CHECKED_AT });
    expect(byName(report.checks, 'progress-after-fault')).toMatchObject({
      measured: 50,
      threshold: 200,
    });
    expect(byName(report.checks, 'progress-after-fault').detail).toContain('crash n1 at 1s: 50ms');
    expect(byName(report.checks, 'agreement').detail).toMatch(/3 nodes agree on 25 executed slots/);
    expect(byName(report.checks, 'min-throughput').measured).toBeCloseTo(20 / 3, 6);
  });

  it('fails linearizability on a stale read', () => {
    const rec = goodRecording();
    // c3 reads x = 0 long after c1 wrote 9 and it was read back: a stale read.
    const stale: RecordedHistoryEntry[] = [
      {
        type: 'invoke',
        process: 'c3',
        opId: 1_000,
        time_us: 2_500_000,
        op: { f: 'get', key: 'x' },
      },
      {
        type: 'ok',
        process: 'c3',
        opId: 1_000,
        time_us: 2_510_000,
        op: { f: 'get', key: 'x' },
        output: 0,
      },
    ];
    const report = checkRecording({ ...rec, history: [...rec.history, ...stale] }, rec.lab, {
      checkedAt: CHECKED_AT,
    });
    const check = byName(report.checks, 'linearizable');
    expect(check.verdict).toBe('fail');
    expect(check.detail).toMatch(/NOT linearizable on key x/);
    expect(report.verdict).toBe('fail');
  });

  it('fails agreement when two nodes execute different digests at one slot', () => {
    const rec = goodRecording();
    const records = rec.records.map((r): RunRecord =>
      r.type === 'protocol' &&
      r.node === 'n3' &&
      r.event.kind === 'executed' &&
      r.event['slot'] === 7
        ? { ...r, event: { ...r.event, digest: 'EVIL' } }
        : r,
    );
    const check = byName(checkRecording({ ...rec, records }, rec.lab).checks, 'agreement');
    expect(check.verdict).toBe('fail');
    expect(check.detail).toContain('slot 7: n1 executed d7 but n3 executed EVIL');
    expect(check).toMatchObject({ measured: 1, threshold: 0 });
  });

  it('does not count a commit by the crashed node itself as progress after its crash', () => {
    const rec = goodRecording();
    const records = rec.records.filter(
      (r) =>
        !(
          r.type === 'protocol' &&
          r.event.kind === 'committed' &&
          r.t_ms > 1_000 &&
          r.t_ms < 3_000
        ),
    );
    // n1 (crashed at 1 s) finishes a slot while its SIGKILL is on the way: not the cluster's progress.
    records.push({
      t_ms: 1_001,
      type: 'protocol',
      node: 'n1',
      incarnation: 1,
      seq: 999,
      raw_ms: 0,
      event: { kind: 'committed', slot: 25, view: 1, requests: 1 },
    });
    records.push({
      t_ms: 3_000,
      type: 'protocol',
      node: 'n2',
      incarnation: 5,
      seq: 1,
      raw_ms: 0,
      event: { kind: 'committed', slot: 26, view: 2, requests: 1 },
    });
    const manifest = { ...rec.manifest, duration_ms: 3_500 };
    const check = byName(
      checkRecording({ ...rec, manifest, records }, rec.lab).checks,
      'progress-after-fault',
    );
    expect(check).toMatchObject({ verdict: 'fail', measured: 2_000 });
  });

  it('fails progress-after-fault on a 2 s gap after a crash, with a 200 ms threshold', () => {
    const rec = goodRecording();
    // Nothing commits between the crash at 1 s and 3 s; the run lasts until 3.5 s.
    const records = rec.records.filter(
      (r) =>
        !(
          r.type === 'protocol' &&
          r.event.kind === 'committed' &&
          r.t_ms > 1_000 &&
          r.t_ms < 3_000
        ),
    );
    records.push({
      t_ms: 3_000,
      type: 'protocol',
      node: 'n2',
      incarnation: 5,
      seq: 1,
      raw_ms: 0,
      event: { kind: 'committed', slot: 26, view: 2, requests: 1 },
    });
    const manifest = { ...rec.manifest, duration_ms: 3_500 };
    const check = byName(
      checkRecording({ ...rec, manifest, records }, rec.lab).checks,
      'progress-after-fault',
    );
    expect(check).toMatchObject({ verdict: 'fail', measured: 2_000, threshold: 200 });
    expect(check.detail).toContain(
      'worst: 2s until the first commit after crash n1 at 1s (limit 200ms = 2 election timeouts)',
    );
  });

  it('fails progress-after-fault when nothing commits again before the end', () => {
    const rec = goodRecording();
    const records = rec.records.filter(
      (r) => !(r.type === 'protocol' && r.event.kind === 'committed' && r.t_ms > 1_000),
    );
    const check = byName(
      checkRecording({ ...rec, records }, rec.lab).checks,
      'progress-after-fault',
    );
    expect(check).toMatchObject({ verdict: 'fail', measured: 2_000 });
    expect(check.detail).toContain('no commit in the 2s until the end');
  });

  it('fails sequence-integrity on a seq gap, and on a duplicate seq', () => {
    const rec = goodRecording();
    const n2 = (r: RunRecord): boolean => r.type === 'protocol' && r.node === 'n2';
    const indexOfNth = (n: number): number => {
      let seen = 0;
      return rec.records.findIndex((r) => n2(r) && ++seen === n);
    };

    const gap = rec.records.filter((_, i) => i !== indexOfNth(5));
    const gapCheck = byName(
      checkRecording({ ...rec, records: gap }, rec.lab).checks,
      'sequence-integrity',
    );
    expect(gapCheck.verdict).toBe('fail');
    expect(gapCheck.detail).toMatch(/n2 incarnation 1: seq 5 missing \(of 1\.\./);

    const dup = [...rec.records];
    dup.splice(indexOfNth(3) + 1, 0, rec.records[indexOfNth(3)] as RunRecord);
    const dupCheck = byName(
      checkRecording({ ...rec, records: dup }, rec.lab).checks,
      'sequence-integrity',
    );
    expect(dupCheck.verdict).toBe('fail');
    expect(dupCheck.detail).toMatch(/first: n2 incarnation 1: seq 3 recorded twice/);
  });

  it('counts history entries that carry their agent seq', () => {
    const rec = goodRecording();
    const history = rec.history.map((h, i) => ({ ...h, node: 'w1', incarnation: 1, seq: i + 1 }));
    expect(
      byName(checkRecording({ ...rec, history }, rec.lab).checks, 'sequence-integrity').verdict,
    ).toBe('pass');
    const skipped = history.filter((_, i) => i !== 3);
    const check = byName(
      checkRecording({ ...rec, history: skipped }, rec.lab).checks,
      'sequence-integrity',
    );
    expect(check.detail).toMatch(/w1 incarnation 1: seq 4 missing/);
  });

  it('fails min-throughput below the minimum', () => {
    const rec = goodRecording();
    const lab = { ...rec.lab, checks: { ...rec.lab.checks, minThroughput_per_s: 100 } };
    expect(byName(checkRecording(rec, lab).checks, 'min-throughput')).toMatchObject({
      verdict: 'fail',
      threshold: 100,
      detail: '20 successful operations in 3s = 6.7 ops/s (minimum 100 ops/s)',
    });
  });

  it('says unknown, not pass, when the history cannot be judged', () => {
    const rec = goodRecording();
    const history: RecordedHistoryEntry[] = [
      { type: 'ok', process: 'c1', opId: 1, time_us: 5, op: { f: 'get', key: 'x' }, output: null },
    ];
    const lab = { ...rec.lab, checks: { ...rec.lab.checks, minThroughput_per_s: null } };
    const report = checkRecording({ ...rec, history }, lab);
    expect(byName(report.checks, 'linearizable')).toMatchObject({
      verdict: 'unknown',
      detail: expect.stringMatching(/^the history cannot be judged: /),
    });
    expect(report.verdict).toBe('unknown');
  });
});
