import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBuffer, SPILL_FILE } from '../../../src-node-agent/control/event-buffer';
import type { AgentEvent } from '../../../src-node-agent/control/frames';

let dir: string;
let buffer: EventBuffer | null = null;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultlab-events-'));
});
afterEach(async () => {
  buffer?.close();
  buffer = null;
  await rm(dir, { recursive: true, force: true });
});

const note = (i: number): AgentEvent => ({ kind: 'log', level: 'info', text: `event ${i}` });
const make = (limit: number): EventBuffer => {
  let t = 1_000;
  buffer = new EventBuffer({ dir, limit, now_ms: () => t++ });
  return buffer;
};
const seqs = (b: EventBuffer, after: number): number[] => Array.from(b.after(after), (f) => f.seq);

describe('event buffer', () => {
  it('numbers events 1, 2, … with their agent time', () => {
    const b = make(100);
    expect(b.push(note(1))).toBe(1);
    expect(b.push(note(2))).toBe(2);
    expect(Array.from(b.after(0))).toEqual([
      { t: 'event', seq: 1, time_ms: 1000, e: note(1) },
      { t: 'event', seq: 2, time_ms: 1001, e: note(2) },
    ]);
    expect([b.firstSeq, b.lastSeq]).toEqual([1, 2]);
  });

  it('ack drops up to seq; after(seq) yields exactly the rest', () => {
    const b = make(100);
    for (let i = 1; i <= 10; i++) b.push(note(i));
    expect(seqs(b, 7)).toEqual([8, 9, 10]);
    b.ack(4);
    expect(seqs(b, 0)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(b.firstSeq).toBe(5);
    b.ack(2); // stale acks change nothing
    expect(b.firstSeq).toBe(5);
    b.ack(10);
    expect(seqs(b, 0)).toEqual([]);
    expect([b.firstSeq, b.lastSeq, b.unacked]).toEqual([11, 10, 0]);
    b.ack(99); // beyond what exists: clamped
    expect(b.push(note(11))).toBe(11);
    expect(seqs(b, 0)).toEqual([11]);
  });

  it('spills the oldest half to disk beyond the limit and reads it back exactly', async () => {
    const b = make(100);
    for (let i = 1; i <= 1000; i++) b.push(note(i));
    expect(b.inMemory).toBeLessThanOrEqual(100);
    expect(b.spilled).toBeGreaterThan(800);
    expect((await stat(join(dir, SPILL_FILE))).size).toBeGreaterThan(0);
    const all = Array.from(b.after(0));
    expect(all.map((f) => f.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(all[0]?.e).toEqual(note(1));
    expect(all[999]?.e).toEqual(note(1000));
    expect(seqs(b, 555).slice(0, 3)).toEqual([556, 557, 558]);
    // Partially acked spill: the rest still comes back.
    b.ack(333);
    expect(seqs(b, 0)[0]).toBe(334);
    expect(seqs(b, 0)).toHaveLength(667);
  });

  it('truncates the spill file once everything in it is acked', async () => {
    const b = make(10);
    for (let i = 1; i <= 50; i++) b.push(note(i));
    b.ack(45);
    expect((await stat(join(dir, SPILL_FILE))).size).toBe(0);
    expect(seqs(b, 0)).toEqual([46, 47, 48, 49, 50]);
    // And spilling works again afterwards.
    for (let i = 51; i <= 100; i++) b.push(note(i));
    expect(seqs(b, 0)).toEqual(Array.from({ length: 55 }, (_, i) => i + 46));
  });

  it('never loses an unacked event under interleaved pushes, acks and resends', () => {
    const b = make(16);
    let acked = 0;
    for (let i = 1; i <= 2000; i++) {
      b.push(note(i));
      if (i % 37 === 0) {
        acked = i - 20;
        b.ack(acked);
      }
      if (i % 101 === 0) {
        const got = seqs(b, 0);
        expect(got).toEqual(Array.from({ length: i - acked }, (_, k) => acked + 1 + k));
      }
    }
  });
});
