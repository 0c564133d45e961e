/** RunView (src-main/api/run-view.ts): the fold the server and the page share. */
import { describe, expect, it } from 'vitest';
import { MAX_SERIES_POINTS, RunView } from '../../../src-main/api/run-view';
import { runViewSnapshotSchema } from '../../../src-main/api/run-view-schema';
import type { RunRecord } from '../../../src-main/record/schema';
import type { Fault } from '../../../src-node-agent/core/faults';

const nodes = [
  { id: 'n1', role: 'replica' as const },
  { id: 'n2', role: 'replica' as const },
  { id: 'n3', role: 'replica' as const },
  { id: 'w1', role: 'workload' as const },
];
let seq = 0;
const protocol = (
  t_ms: number,
  node: string,
  event: { kind: string } & Record<string, unknown>,
): RunRecord => ({
  t_ms,
  type: 'protocol',
  node,
  incarnation: 1,
  seq: ++seq,
  raw_ms: t_ms,
  event,
});
const fault = (
  t_ms: number,
  id: string,
  phase: 'applied' | 'healed' | 'journal',
  f: Fault,
): RunRecord => ({
  t_ms,
  type: 'fault',
  id,
  phase,
  source: 'command',
  fault: f,
  at_ms: null,
});
const metrics = (t_ms: number, node: string, ops: number): RunRecord => ({
  t_ms,
  type: 'metrics',
  node,
  incarnation: 1,
  seq: ++seq,
  raw_ms: t_ms,
  interval_ms: 250,
  ops,
  latency_us: { count: ops, p50: 1_000, p95: 2_000, p99: 4_000, max: 5_000 },
  links: { n2: { sent: 10, received: 10, dropped: 0 } },
  rejected: 0,
});

function started(): RunView {
  const view = new RunView(nodes);
  for (const n of nodes) view.apply({ t_ms: 0, type: 'lifecycle', node: n.id, what: 'started' });
  view.apply(protocol(10, 'n1', { kind: 'leader-elected', view: 1, leader: 'n1' }));
  return view;
}

describe('RunView', () => {
  it('tracks node states, leader and a crash period that a recover closes', () => {
    const view = started();
    expect(view.nodeList().every((n) => n.status === 'up')).toBe(true);
    expect(view.currentLeader()).toEqual({ node: 'n1', view: 1 });
    view.apply(fault(1_000, 'f1', 'journal', { type: 'crash', node: 'n1' }));
    expect(view.activeFaults()).toHaveLength(0); // journaled, not yet applied
    view.apply(fault(1_000, 'f1', 'applied', { type: 'crash', node: 'n1' }));
    expect(view.nodeList().find((n) => n.id === 'n1')?.status).toBe('crashed');
    view.apply(protocol(1_150, 'n2', { kind: 'view-change', view: 2 }));
    expect(view.nodeList().find((n) => n.id === 'n1')?.suspected).toBe(true);
    view.apply(protocol(1_200, 'n2', { kind: 'leader-elected', view: 2, leader: 'n2' }));
    expect(view.currentLeader()).toEqual({ node: 'n2', view: 2 });
    expect(view.nodeList().some((n) => n.suspected)).toBe(false);
    // A stale election of a lower view does not win.
    view.apply(protocol(1_210, 'n3', { kind: 'leader-elected', view: 1, leader: 'n1' }));
    expect(view.currentLeader()?.node).toBe('n2');
    view.apply(fault(2_000, 'f2', 'applied', { type: 'recover', node: 'n1' }));
    expect(view.nodeList().find((n) => n.id === 'n1')?.status).toBe('up');
    expect(view.faultPeriods()).toEqual([
      { id: 'f1', label: 'crash n1', type: 'crash', node: 'n1', from_ms: 1_000, to_ms: 2_000 },
    ]);
    expect(view.activeFaults()).toEqual([]);
  });

  it('derives cut links from a partition, a one-way cut and a heal', () => {
    const view = started();
    view.apply(
      fault(100, 'p1', 'applied', {
        type: 'partition',
        shape: 'isolate',
        groups: [['n1'], ['n2', 'n3']],
      }),
    );
    const cut = view.links().filter((l) => l.state === 'cut');
    expect(cut.map((l) => `${l.from}>${l.to}`).sort()).toEqual([
      'n1>n2',
      'n1>n3',
      'n2>n1',
      'n3>n1',
    ]);
    view.apply(fault(150, 'c1', 'applied', { type: 'cut', from: 'n2', to: 'n3' }));
    expect(view.links().some((l) => l.from === 'n2' && l.to === 'n3' && l.state === 'cut')).toBe(
      true,
    );
    expect(view.links().some((l) => l.from === 'n3' && l.to === 'n2')).toBe(false);
    view.apply(
      fault(200, 'p1', 'healed', {
        type: 'partition',
        shape: 'isolate',
        groups: [['n1'], ['n2', 'n3']],
      }),
    );
    expect(view.links().map((l) => `${l.from}>${l.to}`)).toEqual(['n2>n3']);
    view.apply(fault(300, 'c1', 'healed', { type: 'cut', from: 'n2', to: 'n3' }));
    expect(view.links()).toEqual([]);
    const periods = view.faultPeriods();
    expect(periods.map((p) => [p.id, p.from_ms, p.to_ms])).toEqual([
      ['p1', 100, 200],
      ['c1', 150, 300],
    ]);
  });

  it('keeps chart series bounded however long the run', () => {
    const view = started();
    for (let i = 0; i < MAX_SERIES_POINTS * 3; i++) view.apply(metrics(i * 250, 'w1', 100));
    const tp = view.seriesData().throughput;
    expect(tp.t.length).toBeLessThanOrEqual(MAX_SERIES_POINTS * 1.1);
    expect(tp.t.length).toBe(tp.v.length);
    expect(tp.v[0]).toBe(400); // 100 ops in 250 ms
    expect(tp.t[tp.t.length - 1]).toBe((MAX_SERIES_POINTS * 3 - 1) * 250);
    expect(view.countsSoFar().completedOps).toBe(MAX_SERIES_POINTS * 3 * 100);
  });

  it('round-trips through a snapshot: fromSnapshot + more records = folding everything', () => {
    const all: RunRecord[] = [
      { t_ms: 0, type: 'lifecycle', node: 'n1', what: 'started' },
      protocol(5, 'n1', { kind: 'leader-elected', view: 1, leader: 'n1' }),
      metrics(250, 'w1', 10),
      fault(300, 'x1', 'applied', { type: 'pause', node: 'n2' }),
      protocol(320, 'n1', { kind: 'executed', slot: 4, digest: 'd' }),
      { t_ms: 350, type: 'note', text: 'hello' },
      fault(400, 'x2', 'applied', {
        type: 'partition',
        shape: 'isolate',
        groups: [['n3'], ['n1', 'n2']],
      }),
      metrics(500, 'n1', 0),
      fault(600, 'x3', 'applied', { type: 'resume', node: 'n2' }),
      fault(700, 'x2', 'healed', {
        type: 'partition',
        shape: 'isolate',
        groups: [['n3'], ['n1', 'n2']],
      }),
    ];
    const whole = new RunView(nodes);
    for (const r of all) whole.apply(r);
    for (let cut = 0; cut <= all.length; cut++) {
      const first = new RunView(nodes);
      for (const r of all.slice(0, cut)) first.apply(r);
      const snapshot = runViewSnapshotSchema.parse(JSON.parse(JSON.stringify(first.snapshot())));
      const resumed = RunView.fromSnapshot(snapshot);
      for (const r of all.slice(cut)) resumed.apply(r);
      expect(resumed.snapshot(), `cut at ${cut}`).toEqual(whole.snapshot());
    }
    expect(whole.nodeList().find((n) => n.id === 'n2')?.status).toBe('up');
    expect(whole.faultPeriods().find((p) => p.id === 'x1')?.to_ms).toBe(600);
  });
});
