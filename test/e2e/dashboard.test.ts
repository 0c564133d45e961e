import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRecordings } from '../../src-main/record/recording-reader';
import { RUN_FILES, type RunRecord } from '../../src-main/record/schema';
import {
  e2eUnavailable,
  openDashboard,
  overlappingText,
  screenshot,
  waitFor,
  type OpenDashboard,
  type Served,
} from './support/dashboard-harness';

/**
 * Issue 4's acceptance, end to end: `faultlab serve`, Debian's Chromium, the bundled Paxos lab
 * on the local testbed, an operator crashing the leader and partitioning two nodes by clicks,
 * then the recording played back. One run serves acceptance 1–3 (they are steps of one story).
 */
const unavailable = e2eUnavailable();
if (unavailable !== null) console.warn(`skipping the dashboard e2e tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('dashboard end to end (Chromium)', () => {
  let dashboard: OpenDashboard;
  let served: Served;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    dashboard = await openDashboard();
    ({ served, page, pageErrors } = dashboard);
  }, 240_000);

  afterAll(async () => {
    await dashboard?.close();
  }, 60_000);

  const throughput = async (): Promise<number> =>
    Number((await page.getAttribute('[data-testid=chart-throughput]', 'data-latest')) ?? 'NaN');

  const leaderNode = async (): Promise<string | undefined> => {
    const el = await page.$('[data-testid^=topology-node-][data-leader=true]');
    const id = await el?.getAttribute('data-testid');
    return id?.replace('topology-node-', '');
  };

  let crashed = '';
  let crash_ms = 0;
  let partitioned: string[] = [];

  it('1. starts the Paxos lab, shows throughput within 5 s, crashes the leader by a click and recovers', async () => {
    await page.goto(served.url);
    await page.click('[data-testid=nav-setup]');
    await page.click('[data-testid=lab-option-paxos-leader-crash]');
    // The operator breaks things in this test, not the lab's script.
    if (await page.isChecked('[data-testid=scripted-faults]')) {
      await page.uncheck('[data-testid=scripted-faults]');
    }
    await page.fill('[data-testid=override-duration]', '60');
    await screenshot(page, '01-run-setup');
    const clicked = Date.now();
    await page.click('[data-testid=start-run]');
    await waitFor(
      'throughput > 0',
      async () => ((await throughput()) > 0 ? true : undefined),
      5_000,
      50,
    );
    const firstThroughput_ms = Date.now() - clicked;
    console.log(`throughput > 0 after ${firstThroughput_ms} ms (from the Start click)`);
    expect(firstThroughput_ms).toBeLessThan(5_000);

    // Let the cluster settle, sampling throughput before the crash.
    const samples: { t: number; v: number }[] = [];
    const sampler = setInterval(() => {
      void throughput().then((v) => samples.push({ t: Date.now(), v }));
    }, 100);
    try {
      crashed = await waitFor('a leader on the topology', leaderNode, 10_000);
      await page.waitForTimeout(2_500);
      await screenshot(page, '02-live-run');
      // The leader now (views can change while the cluster settles).
      crashed = await waitFor('a leader on the topology', leaderNode, 10_000);
      const crashClicked = Date.now();
      await page.click(`[data-testid=topology-node-${crashed}]`);
      await page.click('[data-testid=node-action-crash]');

      const entry = await waitFor(
        'the crash in the event timeline',
        async () => (await page.$(`[data-testid=timeline-entry][data-kind=crash]`)) ?? undefined,
        5_000,
      );
      crash_ms = Number(await entry.getAttribute('data-t'));
      await waitFor(
        `${crashed} shown crashed`,
        async () =>
          (await page.getAttribute(`[data-testid=topology-node-${crashed}]`, 'data-status')) ===
          'crashed'
            ? true
            : undefined,
        5_000,
      );
      const newLeader = await waitFor(
        'a new leader',
        async () => {
          const l = await leaderNode();
          return l !== undefined && l !== crashed ? l : undefined;
        },
        10_000,
      );
      await waitFor(
        `leader-elected for ${newLeader} in the timeline`,
        async () =>
          (await page.$(
            `[data-testid=timeline-entry][data-kind=leader-elected][data-t]:is([title*="leader=${newLeader}"])`,
          )) ?? undefined,
        10_000,
      );
      // Recovered: throughput back above zero for a while after the new leader.
      await page.waitForTimeout(3_000);
      await screenshot(page, '03-after-leader-crash');

      const before = samples.filter((s) => s.t < crashClicked && s.t > crashClicked - 2_000);
      const after = samples.filter((s) => s.t > crashClicked && s.t < crashClicked + 3_000);
      const later = samples.filter((s) => s.t > Date.now() - 1_500);
      const median = (xs: number[]): number =>
        [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const beforeMedian = median(before.map((s) => s.v));
      const dip = Math.min(...after.map((s) => s.v));
      const recovered = median(later.map((s) => s.v));
      console.log(
        `throughput: ${beforeMedian.toFixed(0)} ops/s before the crash, ${dip.toFixed(0)} at the dip, ${recovered.toFixed(0)} after`,
      );
      expect(beforeMedian).toBeGreaterThan(0);
      expect(dip).toBeLessThan(beforeMedian * 0.75);
      expect(recovered).toBeGreaterThan(beforeMedian * 0.25);

      // The crash period is shaded on the charts' time axis.
      const periods = Number(
        await page.getAttribute('[data-testid=chart-throughput]', 'data-fault-periods'),
      );
      expect(periods).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(sampler);
    }
  }, 90_000);

  it('2. partitions two selected nodes and heals; both are in the recording with their times', async () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].filter((n) => n !== crashed);
    partitioned = nodes.slice(0, 2);
    await page.click('[data-testid=select-mode]');
    for (const n of partitioned) await page.click(`[data-testid=topology-node-${n}]`);
    await page.click('[data-testid=partition-selected]');
    await waitFor(
      'the partition in the timeline',
      async () => (await page.$('[data-testid=timeline-entry][data-kind=partition]')) ?? undefined,
      5_000,
    );
    await page.waitForTimeout(1_500);
    await screenshot(page, '04-partition');
    await page.click('[data-testid=heal-all]');
    await waitFor(
      'heal-all in the timeline',
      async () => (await page.$('[data-testid=timeline-entry][data-kind=heal-all]')) ?? undefined,
      // Applied once the crashed node has restarted too: an agent start, seconds on a busy machine.
      20_000,
    );
    await page.waitForTimeout(1_000);
    await page.click('[data-testid=stop-run]');
    await waitFor(
      'the run to end',
      async () => {
        const phase = await page.textContent('[data-testid=run-phase]');
        return phase !== null && /ended|failed/i.test(phase) ? phase : undefined;
      },
      60_000,
      250,
    );
    await screenshot(page, '05-live-run-ended');

    const [recording] = await listRecordings(served.runsDir);
    expect(recording).toBeDefined();
    const lines = (await readFile(join(recording!.path, RUN_FILES.events), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as RunRecord);
    const applied = lines.filter(
      (r): r is Extract<RunRecord, { type: 'fault' }> =>
        r.type === 'fault' && r.phase === 'applied',
    );
    const partition = applied.find((r) => r.fault.type === 'partition');
    const heal = applied.find((r) => r.fault.type === 'heal-all');
    expect(partition, 'the partition is recorded as applied').toBeDefined();
    expect(heal, 'heal-all is recorded as applied').toBeDefined();
    expect(partition!.source).toBe('command');
    const groups = partition!.fault.type === 'partition' ? partition!.fault.groups : [];
    expect(groups.some((g) => partitioned.every((n) => g.includes(n)) && g.length === 2)).toBe(
      true,
    );
    expect(heal!.t_ms).toBeGreaterThan(partition!.t_ms);
    expect(partition!.t_ms).toBeGreaterThan(crash_ms);
    console.log(
      `recorded: crash at ${crash_ms.toFixed(0)} ms, partition [${partitioned.join(' ')}] at ${partition!.t_ms.toFixed(0)} ms, heal-all at ${heal!.t_ms.toFixed(0)} ms`,
    );
  }, 90_000);

  it('3. plays the recording back: scrubbed to the crash, the leader is shown down', async () => {
    const [recording] = await listRecordings(served.runsDir);
    await page.click('[data-testid=nav-recordings]');
    await waitFor(
      'the recording in the list',
      async () => (await page.$('[data-testid^=recording-row-]')) ?? undefined,
      10_000,
    );
    await screenshot(page, '06-recordings');
    await page.click('[data-testid^=open-recording-]');
    await waitFor(
      'the scrubber',
      async () => (await page.$('[data-testid=scrubber]')) ?? undefined,
      10_000,
    );
    // Just after the crash: the crashed leader is down, and no longer the leader soon after.
    await page.fill('[data-testid=scrubber-time-input]', ((crash_ms + 50) / 1000).toFixed(2));
    await page.click('[data-testid=scrubber-go]');
    await page.waitForTimeout(1_500);
    await screenshot(page, '07a-debug');
    console.log(
      'DEBUG playhead',
      await page.getAttribute('[data-testid=playhead]', 'data-t'),
      await page.inputValue('[data-testid=scrubber-time-input]'),
      await page.getAttribute(`[data-testid=topology-node-${crashed}]`, 'data-status'),
    );
    await waitFor(
      `${crashed} shown crashed at ${crash_ms + 50} ms`,
      async () =>
        (await page.getAttribute(`[data-testid=topology-node-${crashed}]`, 'data-status')) ===
        'crashed'
          ? true
          : undefined,
      10_000,
    );
    await screenshot(page, '07-playback-at-crash');
    // Down *as the leader*: the topology still marks it leader until another one is elected.
    expect(await page.getAttribute(`[data-testid=topology-node-${crashed}]`, 'data-leader')).toBe(
      'true',
    );
    // A moment before the crash the same node was up.
    await page.fill('[data-testid=scrubber-time-input]', ((crash_ms - 100) / 1000).toFixed(2));
    await page.click('[data-testid=scrubber-go]');
    await waitFor(
      `${crashed} up before the crash`,
      async () =>
        (await page.getAttribute(`[data-testid=topology-node-${crashed}]`, 'data-status')) === 'up'
          ? true
          : undefined,
      10_000,
    );
    expect(recording).toBeDefined();
  }, 60_000);

  it('5. every view is screenshotted at 1280×800 with no overlapping text', async () => {
    const views = ['setup', 'live', 'recordings', 'messages', 'terminal'] as const;
    const problems: string[] = [];
    for (const view of views) {
      await page.click(`[data-testid=nav-${view}]`);
      await page.waitForTimeout(600);
      await screenshot(page, `10-view-${view}`);
      for (const overlap of await overlappingText(page)) problems.push(`${view}: ${overlap}`);
    }
    expect(problems).toEqual([]);
    expect(pageErrors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  }, 60_000);

  it('4. refuses requests without the token; a malformed api message gets a clear error, the server stays up', async () => {
    const bare = await fetch(`${served.origin}/`);
    expect(bare.status).toBe(401);
    const asset = await fetch(`${served.origin}/index.html`);
    expect(asset.status).toBe(401);

    const noToken = new WebSocket(`${served.origin.replace('http', 'ws')}/api`, {
      headers: { Origin: served.origin },
    });
    const refused = await new Promise<string>((done) => {
      noToken.once('unexpected-response', (_req, res) => done(String(res.statusCode)));
      noToken.once('open', () => done('open'));
      noToken.once('error', (err) => done(err.message));
    });
    expect(refused).toBe('401');

    const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/api?token=${served.token}`, {
      headers: { Origin: served.origin },
    });
    await new Promise((done, fail) => {
      ws.once('open', done);
      ws.once('error', fail);
    });
    const replies: unknown[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));
    const next = (): Promise<Record<string, unknown>> =>
      waitFor(
        'an api reply',
        async () => replies.shift() as Record<string, unknown> | undefined,
        5_000,
        20,
      );
    ws.send('{ this is not json');
    const bad = await next();
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    console.log(`malformed frame → ${JSON.stringify(bad)}`);
    ws.send(JSON.stringify({ id: 7, method: 'run.fault', params: { runId: 5 } }));
    const badParams = await next();
    expect(badParams).toMatchObject({ id: 7, ok: false, error: { code: 'bad-request' } });
    ws.send(JSON.stringify({ id: 8, method: 'no.such.method', params: {} }));
    expect(await next()).toMatchObject({ id: 8, ok: false, error: { code: 'unknown-method' } });
    ws.send(JSON.stringify({ id: 9, method: 'labs.list', params: {} }));
    const labs = await next();
    expect(labs).toMatchObject({ id: 9, ok: true });
    ws.close();

    const foreign = new WebSocket(
      `${served.origin.replace('http', 'ws')}/api?token=${served.token}`,
      {
        headers: { Origin: 'http://evil.example' },
      },
    );
    const foreignResult = await new Promise<string>((done) => {
      foreign.once('unexpected-response', (_req, res) => done(String(res.statusCode)));
      foreign.once('open', () => done('open'));
      foreign.once('error', (err) => done(err.message));
    });
    expect(foreignResult).toBe('403');
  }, 30_000);
});
