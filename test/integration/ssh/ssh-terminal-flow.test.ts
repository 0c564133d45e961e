import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiPush } from '../../../src-main/api/api-schema';
import type { PushTarget } from '../../../src-main/server/push-target';
import { SshShellBackend } from '../../../src-main/server/terminal/ssh-shell-backend';
import {
  MAX_TERMINAL_CHUNK_CHARS,
  MAX_UNACKED_CHARS,
} from '../../../src-main/server/terminal/terminal-flow';
import { TerminalSession } from '../../../src-main/server/terminal/terminal-session';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../../support/sshd';
import { ConnectionPool, trusting } from './ssh-test-kit';

/**
 * A dashboard terminal on a host over SSH (real OpenSSH): output in chunks of at most 100 KB,
 * the remote side held back once 5 × that is unacknowledged (the SSH window stops opening),
 * everything delivered once the page acks; resize reaches the remote pty; closing hangs up.
 */
const skipReason = sshdUnavailableReason();
if (skipReason !== null) console.warn(`skipping the SSH terminal tests: ${skipReason}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipReason !== null)('an SSH terminal with ack-based backpressure', () => {
  let sshd: TestSshd;
  let dir: string;
  const pool = new ConnectionPool();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultlab-ssh-terminal-'));
    sshd = await startSshd();
  }, 30_000);
  afterEach(() => pool.disposeAll());
  afterAll(async () => {
    await sshd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('holds a flood at 5 × 100 KB unacknowledged, then delivers all of it as acks come', async () => {
    const connection = await pool.connect(sshd, trusting(dir, sshd));
    const pushes: ApiPush[] = [];
    const target: PushTarget = { id: 'page', push: (p) => pushes.push(p), congested: () => false };
    const TOTAL = 3_000_000;
    // One line of a known size, then the flood, then a marker: all of it must arrive in order.
    const shell = await connection.shell({
      cols: 100,
      rows: 30,
      command: `stty -echo; head -c ${TOTAL} /dev/zero | tr '\\0' x; echo; echo FLOOD-END; sleep 31.25`,
    });
    let exited = false;
    const session = new TerminalSession('T', 'flood', new SshShellBackend(shell), target, () => {
      exited = true;
    });
    const data = (): string =>
      pushes.map((p) => (p.push === 'terminal-data' ? p.data : '')).join('');
    try {
      // Unacknowledged, the output stops near the bound (plus what was in flight in the SSH
      // window and the last read), far below the 3 MB the remote side wants to write.
      await sleep(1_500);
      const held = data().length;
      expect(held).toBeGreaterThan(MAX_UNACKED_CHARS);
      expect(held).toBeLessThan(MAX_UNACKED_CHARS + 4 * MAX_TERMINAL_CHUNK_CHARS + 2 * 1024 * 1024);
      await sleep(500);
      expect(data().length, 'nothing more arrives while unacknowledged').toBe(held);
      for (const p of pushes) {
        if (p.push === 'terminal-data')
          expect(p.data.length).toBeLessThanOrEqual(MAX_TERMINAL_CHUNK_CHARS);
      }
      // The page renders and acks what it has, as xterm does; the rest follows.
      let acked = 0;
      const deadline = Date.now() + 30_000;
      while (!data().includes('FLOOD-END')) {
        if (Date.now() > deadline) throw new Error(`flood not delivered: ${data().length} chars`);
        const now = data().length;
        session.ack(now - acked);
        acked = now;
        await sleep(10);
      }
      expect(data().split('x').length - 1).toBe(TOTAL);
      session.resize(132, 40);
      expect(exited).toBe(false);
    } finally {
      session.close();
    }
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) await sleep(20);
    expect(exited, 'closing the terminal ends the remote shell').toBe(true);
    const exit = pushes.find((p) => p.push === 'terminal-exit');
    expect(exit).toBeDefined();
    // Hung up, the remote side's processes go too (the pty's session gets SIGHUP).
    const left = async (): Promise<string> =>
      (await connection.exec("pgrep -f 'sleep 31[.]25' || true")).stdout.trim();
    const gone = Date.now() + 5_000;
    while ((await left()) !== '' && Date.now() < gone) await sleep(100);
    expect(await left(), 'the remote sleep is gone').toBe('');
  }, 90_000);

  it('reports the shell exit code and the resized window to the remote side', async () => {
    const connection = await pool.connect(sshd, trusting(dir, sshd));
    const pushes: ApiPush[] = [];
    const target: PushTarget = { id: 'page', push: (p) => pushes.push(p), congested: () => false };
    const shell = await connection.shell({ cols: 80, rows: 24 });
    let exited = false;
    const session = new TerminalSession('T2', 'shell', new SshShellBackend(shell), target, () => {
      exited = true;
    });
    const data = (): string =>
      pushes.map((p) => (p.push === 'terminal-data' ? p.data : '')).join('');
    session.resize(123, 45);
    await sleep(200);
    session.input('stty size; exit 7\r');
    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline) {
      session.ack(data().length);
      await sleep(20);
    }
    expect(exited).toBe(true);
    expect(data()).toMatch(/45 123/);
    expect(pushes.find((p) => p.push === 'terminal-exit')).toMatchObject({
      code: 7,
      reason: expect.stringMatching(/exited with code 7/),
    });
  }, 30_000);
});
