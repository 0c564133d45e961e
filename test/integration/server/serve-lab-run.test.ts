/**
 * The server end to end without a browser: start it, connect over WebSocket as the page does,
 * start the bundled Paxos lab on the local testbed (real agents), watch records arrive, crash
 * the leader through the api and see the crash in the records, then let the run end and be
 * checked. Bounded in time; the server stops the run (healing faults, killing agents) on close.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiPush, RunInfo } from '../../../src-main/api/api-schema';
import { RunView } from '../../../src-main/api/run-view';
import type { RunRecord } from '../../../src-main/record/schema';
import { startApiServer, type ApiServer } from '../../../src-main/server/api-server';
import { ApiTestClient, wsUrl } from './api-test-client';

let runsDir = '';
let server: ApiServer;
let client: ApiTestClient;

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'faultlab-serve-it-'));
  server = await startApiServer({
    port: 0,
    runsDir,
    labsDir: resolve('labs'),
    rendererRoot: resolve('out/renderer'),
    version: 'test',
  });
  const { url, headers } = wsUrl(server.origin, server.token);
  client = await ApiTestClient.connect(url, headers);
});

afterAll(async () => {
  client?.close();
  await server?.close('test over');
  await rm(runsDir, { recursive: true, force: true });
});

function recordsOf(pushes: readonly ApiPush[], runId: string): RunRecord[] {
  return pushes.flatMap((p) =>
    p.push === 'records' && p.stream.kind === 'run' && p.stream.runId === runId ? p.records : [],
  );
}

describe('faultlab serve: a lab run over the api', () => {
  it('starts the bundled Paxos lab, streams records, crashes the leader on request, and checks the run', async () => {
    const labs = await client.ok('labs.list', {});
    expect(labs.labs.map((l) => l.name)).toContain('paxos-leader-crash');

    const info: RunInfo = await client.ok('run.start', {
      labPath: 'labs/paxos-leader-crash/lab.yaml',
      testbed: 'local',
      duration_s: 8,
      scriptedFaults: false,
    });
    expect(info.phase).toBe('starting');
    const sub = await client.ok('run.subscribe', { runId: info.runId });
    const view = RunView.fromSnapshot(sub.snapshot);

    // Throughput > 0: fold the pushed batches as the page does until the chart has a point above 0.
    const deadline = Date.now() + 20_000;
    let folded = 0;
    let leader: string | null = null;
    for (;;) {
      const records = recordsOf(client.pushes, info.runId);
      for (const r of records.slice(folded)) view.apply(r);
      folded = records.length;
      const tp = view.seriesData().throughput.v;
      leader = view.currentLeader()?.node ?? null;
      if (tp.some((v) => v > 0) && leader !== null) break;
      if (Date.now() > deadline)
        throw new Error(`no throughput/leader within 20 s (records: ${folded})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(leader).toMatch(/^n\d$/);

    const fault = await client.ok('run.fault', {
      runId: info.runId,
      fault: { type: 'crash', node: leader as string },
    });
    expect(fault.label).toContain(leader as string);

    await client.waitForPush(
      (p) =>
        p.push === 'records' &&
        p.records.some(
          (r) =>
            r.type === 'fault' &&
            r.phase === 'applied' &&
            r.fault.type === 'crash' &&
            r.fault.node === leader,
        ),
      10_000,
    );
    const records = recordsOf(client.pushes, info.runId);
    for (const r of records.slice(folded)) view.apply(r);
    expect(view.nodeList().find((n) => n.id === leader)?.status).toBe('crashed');
    expect(view.faultPeriods().some((p) => p.type === 'crash' && p.node === leader)).toBe(true);

    // A terminal on a node of the local testbed: a shell in its work dir, FAULTLAB_NODE set.
    const other = view.nodeList().find((n) => n.role === 'replica' && n.id !== leader)?.id ?? 'n1';
    const term = await client.ok('terminal.open', {
      target: { kind: 'node', runId: info.runId, node: other },
      cols: 80,
      rows: 24,
    });
    expect(term.title).toContain(other);
    await client.ok('terminal.input', {
      terminalId: term.terminalId,
      data: 'echo "node=$FAULTLAB_NODE dir=$(basename $PWD)"\r',
    });
    await client.waitForPush(
      (p) =>
        p.push === 'terminal-data' &&
        p.terminalId === term.terminalId &&
        p.data.includes(`node=${other} dir=${other}`),
      10_000,
    );
    await client.ok('terminal.close', { terminalId: term.terminalId });

    // Message flow of the live run: answered from the recent-message ring.
    const messages = await client.ok('messages.window', {
      source: { kind: 'run', runId: info.runId },
      from_ms: 0,
      to_ms: 60_000,
      limit: 100,
    });
    if (messages.traced) expect(messages.messages.length).toBeGreaterThan(0);
    else expect(messages.messages).toEqual([]);

    // Live checks arrive while running; the final ones and phase 'ended' at the end.
    await client.waitForPush((p) => p.push === 'checks' && p.runId === info.runId, 10_000);
    const ended = (await client.waitForPush(
      (p) => p.push === 'run-info' && p.info.runId === info.runId && p.info.phase === 'ended',
      40_000,
    )) as Extract<ApiPush, { push: 'run-info' }>;
    expect(ended.info.recordingId).not.toBeNull();
    const checks = client.pushes.filter((p) => p.push === 'checks');
    const final = checks[checks.length - 1] as Extract<ApiPush, { push: 'checks' }>;
    expect(final.checks.map((c) => c.name)).toContain('linearizable');

    // The run is now a recording with a verdict.
    const list = await client.ok('recordings.list', {});
    const rec = list.recordings.find((r) => r.recordingId === ended.info.recordingId);
    expect(rec?.verdict).not.toBe('unchecked');
  }, 90_000);
});
