/**
 * A run session fed by the synthetic source (10,000 events/s, 50 metric series, no agents):
 * subscribers that keep up fold the batches into exactly the server's view; a subscriber
 * whose socket is congested gets no batches while it is, then one snapshot, and ends up with
 * the same view. Phases and live checks are pushed.
 */
import { describe, expect, it } from 'vitest';
import { apiPushSchema, type ApiPush, type RunInfo } from '../../../src-main/api/api-schema';
import { RunView } from '../../../src-main/api/run-view';
import type { PushTarget } from '../../../src-main/server/push-target';
import { RunSession } from '../../../src-main/server/run/run-session';
import { SyntheticRunSource } from '../../../src-main/server/run/synthetic-run-source';

class RecordingTarget implements PushTarget {
  readonly pushes: ApiPush[] = [];
  isCongested = false;
  constructor(readonly id: string) {}
  push(p: ApiPush): void {
    this.pushes.push(apiPushSchema.parse(p));
  }
  congested(): boolean {
    return this.isCongested;
  }
}

/** Fold a subscriber's pushes as the page does (snapshot replaces, records fold). */
function pageView(initial: RunView, pushes: readonly ApiPush[]): RunView {
  let view = initial;
  for (const p of pushes) {
    if (p.push !== 'records') continue;
    if (p.snapshot !== undefined) view = RunView.fromSnapshot(p.snapshot);
    for (const r of p.records) view.apply(r);
  }
  return view;
}

describe('run session', () => {
  it('streams batches, coalesces a congested subscriber into a snapshot, and ends', async () => {
    const infos: RunInfo[] = [];
    const source = new SyntheticRunSource({
      eventsPerSecond: 10_000,
      metricNodes: 50,
      duration_ms: 2_500,
    });
    const session = new RunSession(source, { runsDir: '/tmp', onInfo: (i) => infos.push(i) });
    session.start();
    await new Promise((r) => setTimeout(r, 200));
    const fast = new RecordingTarget('fast');
    const slow = new RecordingTarget('slow');
    const fastStart = RunView.fromSnapshot(session.subscribe(fast).snapshot);
    const slowStart = RunView.fromSnapshot(session.subscribe(slow).snapshot);
    slow.isCongested = true;
    await new Promise((r) => setTimeout(r, 700));
    const whileCongested = slow.pushes.filter((p) => p.push === 'records').length;
    expect(whileCongested).toBe(0);
    slow.isCongested = false;
    expect(source.fault({ type: 'crash', node: 'n3' })).toBe('crash n3');
    await session.done;

    const serverView = session.view.snapshot();
    // Checks differ only by when they were set; compare the rest.
    const strip = (s: ReturnType<RunView['snapshot']>) => ({ ...s, checks: [] });
    expect(strip(pageView(fastStart, fast.pushes).snapshot())).toEqual(strip(serverView));
    expect(slow.pushes.some((p) => p.push === 'records' && p.snapshot !== undefined)).toBe(true);
    expect(strip(pageView(slowStart, slow.pushes).snapshot())).toEqual(strip(serverView));

    expect(serverView.records).toBeGreaterThan(15_000);
    expect(Object.keys(serverView.series.messages)).toHaveLength(50);
    expect(serverView.nodes.find((n) => n.id === 'n3')?.status).toBe('crashed');
    expect(infos.map((i) => i.phase)).toEqual(['running', 'stopping', 'checking', 'ended']);
    // Batches are ~100 ms apart: far fewer pushes than records.
    const batches = fast.pushes.filter((p) => p.push === 'records').length;
    expect(batches).toBeLessThan(40);
    expect(fast.pushes.some((p) => p.push === 'checks')).toBe(true);
  }, 20_000);

  it('refuses faults unless running, and stop ends the run early', async () => {
    const source = new SyntheticRunSource({
      eventsPerSecond: 100,
      metricNodes: 3,
      duration_ms: 60_000,
    });
    const session = new RunSession(source, { runsDir: '/tmp', onInfo: () => undefined });
    expect(() => session.fault({ type: 'crash', node: 'n1' })).toThrow(/starting/);
    session.start();
    expect(session.fault({ type: 'pause', node: 'n1' }).label).toBe('pause n1');
    const t0 = Date.now();
    session.stop('test');
    await session.done;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(session.currentPhase).toBe('ended');
    expect(() => session.fault({ type: 'crash', node: 'n1' })).toThrow(/ended/);
  });
});
