/**
 * Recordings over the api: list with verdicts, open (t=0 snapshot + index), seek to the
 * crash, play at speed with playhead pushes until the end, and the message window of a
 * recording that traced its messages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiPush } from '../../../src-main/api/api-schema';
import { RunView } from '../../../src-main/api/run-view';
import { RecordingWriter, writeChecksFile } from '../../../src-main/record/recording-writer';
import type { RunRecord } from '../../../src-main/record/schema';
import { startApiServer, type ApiServer } from '../../../src-main/server/api-server';
import { goodRecording } from '../../support/recording-fixture';
import { ApiTestClient, wsUrl } from '../../integration/server/api-test-client';

let dir = '';
let server: ApiServer;
let client: ApiTestClient;
const recordingId = join('fixture', '2025-11-22T10-00-00-000Z');

function message(
  t_ms: number,
  node: string,
  dir: 'send' | 'recv',
  peer: string,
  mid: string,
): RunRecord {
  return {
    t_ms,
    type: 'agent',
    node,
    incarnation: 1,
    seq: 10_000 + t_ms,
    raw_ms: t_ms,
    event: { kind: 'message', dir, peer, type: 'accept', mid, bytes: 64 },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultlab-playback-api-'));
  const fixture = goodRecording();
  const runDir = join(dir, recordingId);
  const writer = await RecordingWriter.create(runDir, fixture.manifest);
  const records = [
    ...fixture.records,
    message(2_600, 'n2', 'send', 'n3', 'n2.1.1'),
    message(2_602, 'n3', 'recv', 'n2', 'n2.1.1'),
  ];
  records.sort((a, b) => a.t_ms - b.t_ms);
  for (const r of records) writer.appendRecord(r);
  for (const h of fixture.history) writer.appendHistory(h);
  await writer.close();
  await writeChecksFile(runDir, {
    schema: 1,
    verdict: 'pass',
    checkedAt: '2025-11-22T10:00:04.000Z',
    checks: [{ name: 'agreement', verdict: 'pass', detail: 'ok' }],
  });
  server = await startApiServer({
    port: 0,
    runsDir: dir,
    labsDir: resolve('labs'),
    rendererRoot: join(dir, 'no-renderer'),
    version: 'test',
  });
  const { url, headers } = wsUrl(server.origin, server.token);
  client = await ApiTestClient.connect(url, headers);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('playback over the api', () => {
  it('lists the recording with its verdict', async () => {
    const { recordings, errors } = await client.ok('recordings.list', {});
    expect(errors).toEqual([]);
    expect(recordings).toHaveLength(1);
    expect(recordings[0]).toMatchObject({
      recordingId,
      verdict: 'pass',
      name: 'fixture',
      nodes: 3,
    });
  });

  it('opens, seeks to the crash, plays to the end, and pairs messages', async () => {
    const opened = await client.ok('playback.open', { recordingId });
    expect(opened.info.faultTimes_ms).toEqual([1_000]);
    expect(opened.info.checks).toHaveLength(1);
    expect(opened.snapshot.t_ms).toBe(0);
    const { playbackId } = opened.info;

    const atCrash = await client.ok('playback.seek', { playbackId, t_ms: 1_500 });
    expect(atCrash.snapshot.nodes.find((n) => n.id === 'n1')?.status).toBe('crashed');
    expect(atCrash.snapshot.faultPeriods.map((p) => p.type)).toEqual(['crash']);

    await client.ok('playback.play', { playbackId, speed: 20 });
    const end = await client.waitForPush((p) => p.push === 'playback-state' && p.ended, 10_000);
    expect(end).toMatchObject({ playing: false });
    // Folding the pushed records onto the seek snapshot gives the end state.
    let view = RunView.fromSnapshot(atCrash.snapshot);
    for (const p of client.pushes) {
      if (p.push !== 'records' || p.stream.kind !== 'playback') continue;
      if (p.snapshot !== undefined) view = RunView.fromSnapshot(p.snapshot);
      for (const r of p.records) view.apply(r);
    }
    expect(view.nodeList().find((n) => n.id === 'n1')?.status).toBe('up');
    const batches = client.pushes.filter(
      (p): p is Extract<ApiPush, { push: 'records' }> => p.push === 'records',
    );
    expect(batches.every((b) => b.playhead_ms !== undefined)).toBe(true);

    const paused = await client.ok('playback.pause', { playbackId });
    expect(paused.playhead_ms).toBeGreaterThanOrEqual(2_999);

    const window = await client.ok('messages.window', {
      source: { kind: 'playback', playbackId },
      from_ms: 2_500,
      to_ms: 2_700,
    });
    expect(window.traced).toBe(true);
    expect(window.messages).toEqual([
      {
        mid: 'n2.1.1',
        from: 'n2',
        to: 'n3',
        type: 'accept',
        sent_ms: 2_600,
        received_ms: 2_602,
        dropped: false,
      },
    ]);
    const empty = await client.ok('messages.window', {
      source: { kind: 'playback', playbackId },
      from_ms: 0,
      to_ms: 500,
    });
    expect(empty).toMatchObject({ messages: [], traced: false });

    await client.ok('playback.close', { playbackId });
    const gone = await client.call('playback.seek', { playbackId, t_ms: 0 });
    expect(gone).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});
