import { existsSync } from 'node:fs';
import {
  appendFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Prng } from '../../../src-node-agent/sim/prng';
import { readRecording, RecordingReadError } from '../../../src-main/record/recording-reader';
import { RecordingWriter, writeChecksFile } from '../../../src-main/record/recording-writer';
import type { CheckReport, RunRecord } from '../../../src-main/record/schema';
import { fixtureManifest, goodRecording } from '../../support/recording-fixture';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faultlab-rec-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes the fixture recording through RecordingWriter and returns its directory. */
async function writeFixture(dir = join(root, 'runs', 'fixture', '20251122-100000')) {
  const fixture = goodRecording();
  const { endedAt: _e, duration_ms: _d, ...started } = fixture.manifest;
  const writer = await RecordingWriter.create(dir, started);
  for (const r of fixture.records) writer.appendRecord(r);
  for (const h of fixture.history) writer.appendHistory(h);
  await writer.updateManifest({ endedAt: fixture.manifest.endedAt, duration_ms: 3_000 });
  await writer.close();
  return { dir, fixture };
}

describe('RecordingWriter → readRecording', () => {
  it('round-trips manifest, records, history and checks', async () => {
    const { dir, fixture } = await writeFixture();
    expect((await readRecording(dir)).checks).toBeNull();
    const report: CheckReport = {
      schema: 1,
      verdict: 'pass',
      checkedAt: '2025-11-22T10:00:04.000Z',
      checks: [{ name: 'agreement', verdict: 'pass', detail: 'ok', measured: 0, threshold: 0 }],
    };
    await writeChecksFile(dir, report);

    const rec = await readRecording(dir);
    expect(rec.warnings).toEqual([]);
    expect(rec.manifest).toEqual(fixture.manifest);
    expect(rec.records).toEqual(fixture.records);
    expect(rec.history).toEqual(fixture.history);
    expect(rec.checks).toEqual(report);
  });

  it('writes checks.json and manifest updates atomically through an open writer', async () => {
    const dir = join(root, 'checks');
    const writer = await RecordingWriter.create(dir, fixtureManifest());
    await writer.updateManifest({ clockOffsets: { n2: { offset_ms: -1.5, rtt_ms: 0.3 } } });
    await writer.writeChecks({ schema: 1, verdict: 'fail', checkedAt: 'now', checks: [] });
    await writer.close();
    const rec = await readRecording(dir);
    expect(rec.manifest.clockOffsets).toEqual({ n2: { offset_ms: -1.5, rtt_ms: 0.3 } });
    expect(rec.checks?.verdict).toBe('fail');
    // No temporary files are left behind by the atomic rewrites.
    expect((await readdir(dir)).sort()).toEqual([
      'checks.json',
      'events.ndjson',
      'history.ndjson',
      'run.json',
    ]);
  });

  it('flushes on its timer without close, within a few hundred ms', async () => {
    const dir = join(root, 'timer');
    const writer = await RecordingWriter.create(dir, fixtureManifest(), { flushInterval_ms: 50 });
    writer.appendRecord({ t_ms: 1, type: 'note', text: 'hello' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const text = await readFile(join(dir, 'events.ndjson'), 'utf8');
    expect(text).toBe('{"t_ms":1,"type":"note","text":"hello"}\n');
    await writer.close();
  });

  it('flushes early when the buffer grows past flushAt_bytes', async () => {
    const dir = join(root, 'early');
    const writer = await RecordingWriter.create(dir, fixtureManifest(), {
      flushInterval_ms: 60_000,
      flushAt_bytes: 1_000,
    });
    for (let i = 0; i < 100; i++)
      writer.appendRecord({ t_ms: i, type: 'note', text: 'x'.repeat(20) });
    await writer.flush();
    expect(writer.stats().bufferedBytes).toBe(0);
    const size = (await stat(join(dir, 'events.ndjson'))).size;
    expect(size).toBeGreaterThan(4_000);
    await writer.close();
  });

  it('drops (and says so) beyond maxBuffered_bytes instead of growing without bound', async () => {
    const dir = join(root, 'bounded');
    const writer = await RecordingWriter.create(dir, fixtureManifest(), {
      flushInterval_ms: 60_000,
      flushAt_bytes: 1 << 30,
      maxBuffered_bytes: 500,
    });
    for (let i = 0; i < 50; i++)
      writer.appendRecord({ t_ms: i, type: 'note', text: 'y'.repeat(20) });
    expect(writer.stats().droppedLines).toBeGreaterThan(0);
    await writer.close();
    const rec = await readRecording(dir);
    const last = rec.records.at(-1);
    expect(last?.type).toBe('note');
    expect((last as Extract<RunRecord, { type: 'note' }>).text).toMatch(/dropped \d+ line/);
  });

  it('rejects an invalid record at its source, naming the field', async () => {
    const writer = await RecordingWriter.create(join(root, 'invalid'), fixtureManifest());
    expect(() =>
      writer.appendRecord({ t_ms: 'soon', type: 'note', text: 'x' } as unknown as RunRecord),
    ).toThrow(/t_ms: expected a number, got "soon"/);
    await writer.close();
  });

  it('never overwrites an existing recording', async () => {
    const { dir } = await writeFixture();
    await expect(RecordingWriter.create(dir, fixtureManifest())).rejects.toThrow(
      /run\.json already exists: a recording is never overwritten/,
    );
  });

  it('names the path and what to do when the directory cannot be created', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    await expect(RecordingWriter.create(join(file, 'run'), fixtureManifest())).rejects.toThrow(
      /a-file\/run.*(not a directory|check the path)/,
    );
  });

  it.runIf(existsSync('/dev/full'))(
    'reports a full disk with the file and what to do, on flush and on later appends',
    async () => {
      const dir = join(root, 'full');
      await mkdir(dir);
      await symlink('/dev/full', join(dir, 'events.ndjson')); // every write fails with ENOSPC
      const writer = await RecordingWriter.create(dir, fixtureManifest());
      writer.appendRecord({ t_ms: 1, type: 'note', text: 'lost' });
      await expect(writer.flush()).rejects.toThrow(
        /disk full while appending to .*full\/events\.ndjson: free space on that disk/,
      );
      expect(() => writer.appendRecord({ t_ms: 2, type: 'note', text: 'x' })).toThrow(/disk full/);
      await expect(writer.close()).rejects.toThrow(/disk full/);
    },
  );

  it('refuses appends after close', async () => {
    const writer = await RecordingWriter.create(join(root, 'closed'), fixtureManifest());
    await writer.close();
    await writer.close(); // idempotent
    expect(() => writer.appendRecord({ t_ms: 1, type: 'note', text: 'late' })).toThrow(
      /already closed/,
    );
  });
});

describe('readRecording on damaged recordings', () => {
  it('skips a torn last line (no trailing newline) and reports it', async () => {
    const { dir, fixture } = await writeFixture();
    await appendFile(join(dir, 'events.ndjson'), '{"t_ms":2999.5,"type":"no');
    const rec = await readRecording(dir);
    expect(rec.records).toEqual(fixture.records);
    expect(rec.warnings).toHaveLength(1);
    expect(rec.warnings[0]).toMatch(
      new RegExp(`events\\.ndjson:${String(fixture.records.length + 1)}: torn last line skipped`),
    );
  });

  it('skips a last line that is not JSON even with its newline (e.g. NUL-filled after a crash)', async () => {
    const { dir, fixture } = await writeFixture();
    await appendFile(join(dir, 'history.ndjson'), '\u0000\u0000\u0000\n');
    const rec = await readRecording(dir);
    expect(rec.history).toEqual(fixture.history);
    expect(rec.warnings[0]).toMatch(/history\.ndjson:\d+: torn last line skipped/);
  });

  it('keeps a complete last line that only lacks its newline', async () => {
    const { dir, fixture } = await writeFixture();
    await appendFile(join(dir, 'events.ndjson'), '{"t_ms":2999.5,"type":"note","text":"last"}');
    const rec = await readRecording(dir);
    expect(rec.records).toHaveLength(fixture.records.length + 1);
    expect(rec.warnings[0]).toMatch(/no trailing newline but is complete; kept/);
  });

  it('fails on a bad line in the middle, naming file:line; lenient skips and reports it', async () => {
    const { dir, fixture } = await writeFixture();
    const path = join(dir, 'events.ndjson');
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[2] = '{"t_ms":5,"type":"protocol","node":"n1"}'; // valid JSON, invalid record
    lines[4] = '{broken';
    await writeFile(path, lines.join('\n'));

    const error = await readRecording(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RecordingReadError);
    expect((error as Error).message).toMatch(/events\.ndjson:3: not a valid run record: /);
    expect((error as Error).message).toMatch(/--lenient/);

    const rec = await readRecording(dir, { lenient: true });
    expect(rec.records).toHaveLength(fixture.records.length - 2);
    expect(rec.warnings).toEqual([
      expect.stringMatching(/events\.ndjson:3: skipped \(lenient\): not a valid run record/),
      expect.stringMatching(/events\.ndjson:5: skipped \(lenient\): not valid JSON/),
    ]);
  });

  it('fails on a complete but invalid last line: it is not torn, it is wrong', async () => {
    const { dir } = await writeFixture();
    await appendFile(join(dir, 'events.ndjson'), '{"t_ms":1,"type":"nope"}\n');
    await expect(readRecording(dir)).rejects.toThrow(/events\.ndjson:\d+: not a valid run record/);
  });

  it('names run.json and the field when the manifest is invalid or missing', async () => {
    const { dir } = await writeFixture();
    const path = join(dir, 'run.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    manifest['seed'] = 'one';
    await writeFile(path, JSON.stringify(manifest));
    await expect(readRecording(dir)).rejects.toThrow(
      /run\.json: seed: expected a whole number|run\.json: seed: expected a number/,
    );
    await rm(path);
    await expect(readRecording(dir)).rejects.toThrow(/run\.json: not found; is .* a run directory/);
  });

  it('reads a recording whose writer was killed mid-write (truncated at random bytes)', async () => {
    const seed = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
    console.log(`truncation seed=${String(seed)} (set SEED=… to reproduce)`);
    const prng = new Prng(seed);
    const { dir, fixture } = await writeFixture();
    const eventsPath = join(dir, 'events.ndjson');
    const historyPath = join(dir, 'history.ndjson');
    const events = await readFile(eventsPath);
    const history = await readFile(historyPath);
    for (let round = 0; round < 25; round++) {
      const cutEvents = prng.int(events.length + 1);
      const cutHistory = prng.int(history.length + 1);
      await writeFile(eventsPath, events);
      await writeFile(historyPath, history);
      await truncate(eventsPath, cutEvents);
      await truncate(historyPath, cutHistory);
      const context = `seed=${String(seed)} round=${String(round)} events cut at byte ${String(cutEvents)}, history at ${String(cutHistory)}`;
      const rec = await readRecording(dir).catch((err: unknown) => {
        throw new Error(`${context}: ${String(err)}`);
      });
      // Exactly the lines completed before the cut survive (plus one that lacked only "\n").
      const whole = (buf: Buffer, cut: number): number => {
        const kept = buf.subarray(0, cut).toString('utf8');
        const complete = kept.split('\n').length - 1;
        return buf[cut] === 0x0a ? complete + 1 : complete;
      };
      expect(rec.records, context).toEqual(fixture.records.slice(0, whole(events, cutEvents)));
      expect(rec.history, context).toEqual(fixture.history.slice(0, whole(history, cutHistory)));
      expect(rec.warnings.length, context).toBeLessThanOrEqual(2);
    }
  });
});
