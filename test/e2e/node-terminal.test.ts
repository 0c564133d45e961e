import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool } from '../../src-main/testbeds/netns/run-tool';
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
 * Issue 5, acceptance 5, end to end: from the dashboard in Chromium, check the hosts of a
 * namespace testbed (the preflight panel), start the Paxos lab on it (each node in its own
 * network namespace with its own sshd and hostname, the agents deployed over SSH), open a
 * terminal on a node, run `hostname`, and read the node's answer from the xterm. Then stop the
 * run and check that nothing of the testbed is left.
 */
function missingPrerequisite(): string | null {
  const browser = e2eUnavailable();
  if (browser !== null) return browser;
  if (process.getuid?.() !== 0) return 'not root (the netns testbed needs CAP_NET_ADMIN)';
  for (const tool of ['ip', 'nft', 'tc', 'sshd', 'ssh-keygen', 'unshare']) {
    try {
      findTool(tool);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return null;
}
const skipReason = missingPrerequisite();
if (skipReason !== null) console.warn(`skipping the node terminal e2e test: ${skipReason}`);

const run = promisify(execFile);

/** What of testbed `id` is still in the kernel: namespaces (fl-<id>-n<i>) and its nft table. */
async function leftoversOf(id: string): Promise<string[]> {
  const [ns, tables] = await Promise.all([
    run(findTool('ip'), ['netns', 'list']),
    run(findTool('nft'), ['list', 'tables']),
  ]);
  return `${ns.stdout}\n${tables.stdout}`
    .split('\n')
    .filter((l) => l.includes(`fl-${id}-`) || l.includes(`faultlab_${id}`));
}

describe.skipIf(skipReason !== null)('a node terminal over SSH (Chromium, netns testbed)', () => {
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
  }, 90_000);

  /** What the active xterm shows, one string per screen row. */
  const terminalRows = (): Promise<string[]> =>
    page.$$eval('[data-testid=terminal] .xterm-rows > div', (rows) =>
      rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()),
    );

  it('checks the hosts, runs Paxos on namespaces, and answers `hostname` from the node over SSH', async () => {
    await page.goto(served.url);
    await page.click('[data-testid=nav-setup]');
    await page.click('[data-testid=lab-option-paxos-leader-crash]');
    if (await page.isChecked('[data-testid=scripted-faults]')) {
      await page.uncheck('[data-testid=scripted-faults]');
    }
    await page.fill('[data-testid=override-nodes]', '3');
    await page.fill('[data-testid=override-duration]', '90');
    await page.check('[data-testid=testbed-netns] input');

    // The preflight panel: 4 namespaces (3 replicas and the workload node) brought up,
    // checked and taken down.
    await page.click('[data-testid=run-preflight]');
    const ok = await waitFor(
      'the preflight table',
      async () =>
        (await page.$('[data-testid=preflight-table]')) === null
          ? (await page.$('[data-testid=preflight-error]')) === null
            ? undefined
            : `error: ${await page.textContent('[data-testid=preflight-error]')}`
          : page.getAttribute('[data-testid=preflight-table]', 'data-ok'),
      90_000,
      200,
    );
    await screenshot(page, '20-netns-preflight');
    expect(await overlappingText(page), 'run setup with the preflight table').toEqual([]);
    expect(ok, `the preflight of 4 fresh namespaces passes (got: ${ok})`).toBe('true');
    const checks = await page.$$eval('[data-testid=preflight-row]', (rows) =>
      rows.map((r) => `${r.getAttribute('data-check')}:${r.getAttribute('data-status')}`),
    );
    for (const check of ['reachable', 'node', 'ports', 'clock', 'rtt', 'kernel-faults']) {
      expect(
        checks.some((c) => c.startsWith(`${check}:`)),
        `a ${check} row`,
      ).toBe(true);
    }

    await page.click('[data-testid=start-run]');
    await waitFor(
      'the run to be running on the netns testbed',
      async () => {
        const phase = await page.getAttribute('[data-testid=run-phase]', 'data-phase');
        if (phase === 'failed') {
          throw new Error(
            `the run failed: ${await page.textContent('[data-testid=run-problems]')}`,
          );
        }
        return phase === 'running' ? true : undefined;
      },
      120_000,
      250,
    );
    // Open while the run starts; open it again if it has folded away since.
    if ((await page.getAttribute('[data-testid=run-testbed-panel]', 'open')) === null) {
      await page.click('[data-testid=run-testbed-panel] summary');
    }
    await page.waitForSelector('[data-testid=run-setup-log]');
    expect(await page.textContent('[data-testid=run-testbed-panel] summary')).toMatch(
      /Testbed: netns · preflight passed \(4 hosts/,
    );
    await screenshot(page, '21-netns-live-run');
    expect(await overlappingText(page), 'live run with the testbed panel open').toEqual([]);

    await page.click('[data-testid=nav-terminal]');
    await page.selectOption('[data-testid=terminal-node]', 'n1');
    await page.click('[data-testid=open-node-shell]');
    await page.waitForSelector('[data-testid=terminal] .xterm-rows', { timeout: 20_000 });
    const tab = await page.textContent('[role=tab][aria-selected=true]');
    expect(tab).toMatch(/n1 on n1 \(10\.\d+\.\d+\.\d+, over SSH\)/);
    // The login shell prints its prompt and our cd/export line; wait for a quiet prompt.
    await waitFor(
      'a shell prompt',
      async () => ((await terminalRows()).some((r) => /[#$] *$/.test(r)) ? true : undefined),
      20_000,
    );
    await page.click('[data-testid=terminal]');
    await page.keyboard.type('hostname; echo "node=$FAULTLAB_NODE cwd=$PWD"\n');
    const answer = await waitFor(
      "the node's answer",
      async () => {
        const rows = await terminalRows();
        const echoed = rows.findIndex((r) => r.includes('hostname; echo'));
        if (echoed < 0) return undefined;
        const after = rows.slice(echoed + 1);
        const env = after.find((r) => r.startsWith('node='));
        return env === undefined ? undefined : { host: after[0] ?? '', env };
      },
      20_000,
    );
    await screenshot(page, '22-node-terminal-hostname');
    // The node's own UTS namespace: its hostname is the node's name, not this machine's.
    expect(answer.host).toBe('n1');
    expect(hostname()).not.toBe('n1');
    expect(answer.env).toMatch(/^node=n1 cwd=\/.*n1/);

    await page.click('[data-testid=nav-live]');
    // The testbed's id, from its setup log ("netns testbed <id>: kernel faults in …").
    const log = (await page.textContent('[data-testid=run-setup-log]')) ?? '';
    const id = /netns testbed ([a-z0-9]+):/.exec(log)?.[1];
    expect(id, `the setup log names the testbed:\n${log}`).toBeDefined();
    expect(await leftoversOf(id ?? '?')).not.toEqual([]);
    await page.click('[data-testid=stop-run]');
    await waitFor(
      'the run to end',
      async () => {
        const phase = await page.getAttribute('[data-testid=run-phase]', 'data-phase');
        return phase === 'ended' || phase === 'failed' ? phase : undefined;
      },
      60_000,
      250,
    );
    expect(await leftoversOf(id ?? '?'), 'nothing of the testbed is left').toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 360_000);
});
