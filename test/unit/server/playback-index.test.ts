/**
 * Playback: the index streams events.ndjson once into keyframes; a seek (nearest keyframe +
 * fold forward) must give exactly the view of folding every record up to that time from the
 * start. Checked at seeded random times on a fixture recording stretched to two minutes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunView } from '../../../src-main/api/run-view';
import { RecordingWriter } from '../../../src-main/record/recording-writer';
import type { RunRecord } from '../../../src-main/record/schema';
import { PlaybackIndex } from '../../../src-main/server/playback/playback-index';
import { goodRecording } from '../../support/recording-fixture';

const SEED = Number(process.env['FAULTLAB_SEED'] ?? Date.now() % 100_000);
let dir = '';
let records: RunRecord[] = [];
const fixture = goodRecording();
const nodes = fixture.manifest.testbed.nodes.map((n) => ({ id: n.id, role: n.role }));

/** The fixture, then 2 minutes of workload metrics and a partition from 60 s to 70 s. */
function longRecords(): RunRecord[] {
  const out = [...fixture.records];
  let seq = 1_000;
  for (let t = 3_000; t <= 120_000; t += 250) {
    out.push({
      t_ms: t,
      type: 'metrics',
      node: 'w1',
      incarnation: 1,
      seq: seq++,
      raw_ms: 1_700_000_000_000 + t,
      interval_ms: 250,
      ops: t >= 60_000 && t < 61_000 ? 0 : 50,
      latency_us: { count: 50, p50: 800, p95: 1_200, p99: 2_000, max: 3_000 },
      links: { n1: { sent: 5, received: 5, dropped: 0 } },
      rejected: 0,
    });
    if (t === 60_000 || t === 70_000) {
      out.push({
        t_ms: t,
        type: 'fault',
        id: 'p1',
        phase: t === 60_000 ? 'applied' : 'healed',
        source: 'command',
        fault: { type: 'partition', shape: 'isolate', groups: [['n1'], ['n2', 'n3']] },
        at_ms: null,
      });
    }
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultlab-playback-'));
  records = longRecords();
  const writer = await RecordingWriter.create(dir, fixture.manifest);
  for (const r of records) writer.appendRecord(r);
  await writer.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The records a seek shows, folded from the start: every one stamped at or before t_ms up
 * to the first one after it, then those stamped at or before t_ms that follow within 3 s
 * (written late: agents' events, a fault's applied record). */
function foldUpTo(t_ms: number, from: readonly RunRecord[] = records): RunView {
  const view = new RunView(nodes);
  let i = 0;
  for (; i < from.length && (from[i] as RunRecord).t_ms <= t_ms; i++) view.apply(from[i]!);
  for (let j = i; j < from.length && (from[j] as RunRecord).t_ms <= t_ms + 3_000; j++) {
    if ((from[j] as RunRecord).t_ms <= t_ms) view.apply(from[j]!);
  }
  return view;
}

describe('playback index', () => {
  it('indexes the whole file: record count, fault times, keyframes every 5 s', async () => {
    const index = new PlaybackIndex(dir, nodes);
    await index.build();
    expect(index.done).toBe(true);
    expect(index.error).toBeNull();
    expect(index.records).toBe(records.length);
    expect(index.faultTimes_ms).toEqual([1_000, 60_000]);
    // 0 s plus one per 5 s up to 120 s.
    expect(index.keyframeCount).toBeGreaterThanOrEqual(24);
    expect(index.keyframeCount).toBeLessThanOrEqual(26);
    expect(index.keyframeBefore(12_345).t_ms).toBe(10_000);
  });

  it(`seek = nearest keyframe + fold forward equals folding from the start (seed ${SEED})`, async () => {
    const index = new PlaybackIndex(dir, nodes);
    await index.build();
    let state = SEED;
    const times = [0, 999, 1_000, 1_500, 2_500, 5_000, 60_000, 65_000, 70_000, 119_999];
    for (let i = 0; i < 10; i++) {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      times.push(state % 121_000);
    }
    for (const t of times) {
      const { view, cursor } = await index.viewAt(t);
      await cursor.close();
      expect(view.snapshot(), `t=${t} (seed ${SEED})`).toEqual(foldUpTo(t).snapshot());
    }
  });

  it('shows the crashed node at the crash and the partition while it lasts', async () => {
    const index = new PlaybackIndex(dir, nodes);
    await index.build();
    const atCrash = (await index.viewAt(1_500)).view;
    expect(atCrash.nodeList().find((n) => n.id === 'n1')?.status).toBe('crashed');
    const inPartition = (await index.viewAt(65_000)).view;
    expect(
      inPartition.links().some((l) => l.from === 'n1' && l.to === 'n2' && l.state === 'cut'),
    ).toBe(true);
    const healed = (await index.viewAt(71_000)).view;
    expect(healed.links()).toEqual([]);
  });

  it('a seek beyond the indexed part waits for the indexer', async () => {
    const index = new PlaybackIndex(dir, nodes);
    const pending = index.viewAt(100_000);
    void index.build();
    const { view, cursor } = await pending;
    await cursor.close();
    expect(view.time_ms).toBe(100_000);
    expect(index.indexed_ms).toBeGreaterThan(100_000);
  });
});

describe('playback of records written late', () => {
  it("finds a fault's applied record written after records stamped later (enacting took a while)", async () => {
    const late = await mkdtemp(join(tmpdir(), 'faultlab-playback-late-'));
    try {
      const sorted = longRecords();
      const crash = sorted.findIndex(
        (r) => r.type === 'fault' && r.phase === 'applied' && r.t_ms === 1_000,
      );
      expect(crash).toBeGreaterThanOrEqual(0);
      const [applied] = sorted.splice(crash, 1);
      // Written once the kill finished: after the metrics stamped up to 3.5 s.
      const after = sorted.findIndex((r) => r.t_ms > 3_500);
      sorted.splice(after, 0, applied as RunRecord);
      const writer = await RecordingWriter.create(late, fixture.manifest);
      for (const r of sorted) writer.appendRecord(r);
      await writer.close();
      const index = new PlaybackIndex(late, nodes);
      await index.build();
      const { view, cursor } = await index.viewAt(1_500);
      expect(view.nodeList().find((n) => n.id === 'n1')?.status).toBe('crashed');
      expect(view.snapshot()).toEqual(foldUpTo(1_500, sorted).snapshot());
      // Playing on from there never applies the late record a second time.
      const seen: number[] = [];
      for (let item = await cursor.next(); item !== null; item = await cursor.next()) {
        if (item.record.t_ms > 4_000) break;
        if (item.record.type === 'fault') seen.push(item.record.t_ms);
      }
      await cursor.close();
      expect(seen).toEqual([]);
    } finally {
      await rm(late, { recursive: true, force: true });
    }
  });
});
