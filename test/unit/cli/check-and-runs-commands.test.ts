import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCommand } from '../../../src-main/cli/check-command';
import { runsCommand } from '../../../src-main/cli/runs-command';
import { RecordingWriter } from '../../../src-main/record/recording-writer';
import type { RunManifest, RunRecord } from '../../../src-main/record/schema';
import { goodRecording } from '../../support/recording-fixture';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faultlab-cli-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function record(
  stamp: string,
  edit: (r: RunRecord) => RunRecord = (r) => r,
  manifestPatch: Partial<RunManifest> = {},
): Promise<string> {
  const fixture = goodRecording();
  const dir = join(root, 'runs', 'fixture', stamp);
  const writer = await RecordingWriter.create(dir, { ...fixture.manifest, ...manifestPatch });
  for (const r of fixture.records) writer.appendRecord(edit(r));
  for (const h of fixture.history) writer.appendHistory(h);
  await writer.close();
  return dir;
}

function capture(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => lines.push(line) };
}

describe('faultlab check', () => {
  it('passes a good recording: table, exit 0, checks.json written', async () => {
    const dir = await record('20251122-100000');
    const out = capture();
    expect(await checkCommand({ runDir: dir, print: out.print })).toBe(0);
    const text = out.lines.join('\n');
    expect(text).toMatch(/^check\s+verdict\s+measured \/ threshold\s+detail$/m);
    expect(text).toMatch(/^progress-after-fault\s+PASS\s+50ms \/ 200ms\s+worst: 50ms/m);
    expect(text).toContain('verdict: PASS');
    const checks = JSON.parse(await readFile(join(dir, 'checks.json'), 'utf8')) as {
      verdict: string;
    };
    expect(checks.verdict).toBe('pass');
  });

  it('fails a broken one with exit 1 and prints the details of the failing check', async () => {
    const dir = await record('20251122-100000', (r) =>
      r.type === 'protocol' &&
      r.node === 'n2' &&
      r.event.kind === 'executed' &&
      r.event['slot'] === 3
        ? { ...r, event: { ...r.event, digest: 'X' } }
        : r,
    );
    const out = capture();
    expect(await checkCommand({ runDir: dir, print: out.print })).toBe(1);
    expect(out.lines.join('\n')).toContain('slot 3: n1 executed d3 but n2 executed X');
  });

  it('exits 2 with a clear message when the recording cannot be read', async () => {
    const out = capture();
    expect(await checkCommand({ runDir: join(root, 'nothing-here'), print: out.print })).toBe(2);
    expect(out.lines.join('\n')).toMatch(/cannot read the recording .*run\.json: not found/s);
  });

  it('prints reader warnings (a torn last line) and still checks', async () => {
    const dir = await record('20251122-100000');
    await writeFile(join(dir, 'events.ndjson'), '{"t_ms":1,', { flag: 'a' });
    const out = capture();
    expect(await checkCommand({ runDir: dir, print: out.print })).toBe(0);
    expect(out.lines[0]).toMatch(/^warning: .*events\.ndjson:\d+: torn last line skipped/);
  });

  it('exits 2 when the lab stored in run.json is not usable', async () => {
    const fixture = goodRecording();
    const dir = await record('20251122-100000', undefined, {
      lab: { ...fixture.lab, stack: 'raft' },
    });
    const out = capture();
    expect(await checkCommand({ runDir: dir, print: out.print })).toBe(2);
    expect(out.lines.join('\n')).toContain('lab.stack: unknown stack "raft"');
  });
});

describe('faultlab runs', () => {
  it('lists recordings newest first with their verdicts', async () => {
    const checked = await record('20251122-100000', undefined, {
      startedAt: '2025-11-22T10:00:00.000Z',
    });
    await checkCommand({ runDir: checked, print: () => undefined });
    await record('20251122-110000', undefined, { startedAt: '2025-11-22T11:00:00.000Z' });
    await record('20251122-120000', undefined, {
      startedAt: '2025-11-22T12:00:00.000Z',
      endedAt: undefined,
      duration_ms: undefined,
    });
    const out = capture();
    expect(await runsCommand({ dir: join(root, 'runs'), print: out.print })).toBe(0);
    expect(out.lines[0]).toMatch(/^name\s+started\s+duration\s+verdict\s+path$/);
    const rows = out.lines.slice(2);
    expect(rows.map((row) => row.split(/\s{2,}/)[3])).toEqual(['incomplete', 'unchecked', 'pass']);
    expect(rows[2]).toContain('3s');
  });

  it('says so when there are none', async () => {
    const out = capture();
    expect(await runsCommand({ dir: join(root, 'runs'), print: out.print })).toBe(0);
    expect(out.lines[0]).toMatch(/^no recordings in /);
  });
});
