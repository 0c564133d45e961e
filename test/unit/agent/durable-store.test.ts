import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableStore, STATE_LOG } from '../../../src-node-agent/runtime/durable-store';

let dir: string;
const stores: DurableStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultlab-store-'));
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function open(
  ...args: Parameters<typeof DurableStore.open> extends [string, ...infer R] ? R : never
) {
  const s = await DurableStore.open(dir, ...args);
  stores.push(s);
  return s;
}

describe('durable store', () => {
  it('reload equals what was written: sets, overwrites, deletes', async () => {
    const a = await open('fsync');
    a.set('promised', 3);
    a.set('acc/1', { view: 3, cmd: { type: 'noop' } });
    a.set('acc/2', { view: 3, cmd: { type: 'batch', reqs: [] } });
    a.set('promised', 4);
    a.set('acc/1', undefined);
    await a.flush();
    await a.close();
    const b = await open('fsync');
    expect(Object.fromEntries(b.loaded)).toEqual({
      promised: 4,
      'acc/2': { view: 3, cmd: { type: 'batch', reqs: [] } },
    });
    expect(b.warnings).toEqual([]);
  });

  it('group commit: many concurrent flushes share a few fsyncs', async () => {
    const s = await open('fsync');
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      s.set(`k${i}`, i);
      flushes.push(s.flush());
    }
    await Promise.all(flushes);
    // The first flush starts a round; the 199 that arrive while it is on the disk share one.
    expect(s.stats.syncs).toBeLessThanOrEqual(3);
    expect(s.stats.writes).toBe(s.stats.syncs);
    await s.close();
    const again = await open('fsync');
    expect(again.loaded.size).toBe(200);
    expect(again.loaded.get('k199')).toBe(199);
  });

  it('a flush requested during a round is served by the next round, not the current one', async () => {
    const s = await open('fsync');
    s.set('a', 1);
    const first = s.flush();
    s.set('b', 2);
    const second = s.flush();
    await first;
    // `b` was set after the first round started, so the first round cannot contain it.
    const onDisk = await readFile(join(dir, STATE_LOG), 'utf8');
    expect(onDisk).toContain('"k":"a"');
    await second;
    expect(await readFile(join(dir, STATE_LOG), 'utf8')).toContain('"k":"b"');
    expect(s.stats.syncs).toBe(2);
  });

  it('ignores and reports a torn last line, and appends cleanly after it', async () => {
    await writeFile(
      join(dir, STATE_LOG),
      '{"k":"a","v":1}\n{"k":"b","v":{"x":[1,2]}}\n{"k":"c","v":{"tor',
    );
    const s = await open('fsync');
    expect(Object.fromEntries(s.loaded)).toEqual({ a: 1, b: { x: [1, 2] } });
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/torn last line/);
    s.set('c', 3);
    await s.close();
    const again = await open('write');
    expect(Object.fromEntries(again.loaded)).toEqual({ a: 1, b: { x: [1, 2] }, c: 3 });
    expect(again.warnings).toEqual([]);
  });

  it('refuses a corrupt line in the middle, naming the file and line', async () => {
    await writeFile(join(dir, STATE_LOG), '{"k":"a","v":1}\ngarbage\n{"k":"b","v":2}\n');
    await expect(DurableStore.open(dir, 'fsync')).rejects.toThrow(/state\.log:2: corrupt record/);
  });

  it('compaction rewrites the live keys and preserves the content', async () => {
    const s = await open('fsync', { compactMin_bytes: 4096, compactFactor: 2 });
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 10; k++) s.set(`k${k}`, { round, pad: 'x'.repeat(50) });
      s.set(`gone${round}`, round);
      s.set(`gone${round}`, undefined);
      await s.flush();
    }
    expect(s.stats.compactions).toBeGreaterThan(0);
    const size = (await stat(join(dir, STATE_LOG))).size;
    expect(size).toBeLessThan(20 * 1024);
    await s.close();
    const again = await open('fsync');
    expect(again.loaded.size).toBe(10);
    for (let k = 0; k < 10; k++) {
      expect(again.loaded.get(`k${k}`)).toEqual({ round: 49, pad: 'x'.repeat(50) });
    }
  });

  it('write mode does not fsync; memory mode touches no disk', async () => {
    const w = await open('write');
    w.set('a', 1);
    await w.flush();
    expect(w.stats).toMatchObject({ writes: 1, syncs: 0 });
    await w.close();
    const m = await DurableStore.open(join(dir, 'nowhere'), 'memory');
    m.set('a', 1);
    await m.flush();
    expect(m.get('a')).toBe(1);
    expect(m.loaded.size).toBe(0);
    await m.close();
    await expect(stat(join(dir, 'nowhere'))).rejects.toThrow();
  });

  it('memory mode keeps values without serializing them and says flush never waits', async () => {
    const m = await DurableStore.open(join(dir, 'nowhere'), 'memory');
    expect(m.writes).toBe(false);
    const slot = { view: 2, cmd: { type: 'batch', reqs: [{ client: 'c', seq: 1 }] } };
    m.set('slot:1', slot);
    m.set('gone', 1);
    m.set('gone', undefined);
    expect(m.keys()).toEqual(['slot:1']);
    const read = m.get('slot:1');
    expect(read).toEqual(slot);
    expect(read).not.toBe(slot); // a copy, as a value read back from a log would be
    await m.close();
    const w = await open('write');
    expect(w.writes).toBe(true);
    await w.close();
  });
});
