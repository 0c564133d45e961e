/**
 * Links that break and links that hop: the sshd session serving a connection is SIGKILLed
 * mid-way and the connection comes back by itself (issue 5, acceptance 3 at the SSH layer);
 * a host reached only through a jump host (ProxyJump) over a second real sshd.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SshStateChange } from '../../../src-main/ssh/ssh-connection';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../../support/sshd';
import { ConnectionPool, trusting } from './ssh-test-kit';

const unavailable = sshdUnavailableReason();
if (unavailable !== null) console.warn(`skipping SSH reconnect/jump tests: ${unavailable}`);

async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(unavailable !== null)(
  'reconnect and ProxyJump against real OpenSSH',
  { timeout: 30_000 },
  () => {
    let sshd: TestSshd;
    let dir: string;
    const pool = new ConnectionPool();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'faultlab-ssh-reconnect-'));
      sshd = await startSshd();
    });
    afterEach(() => pool.disposeAll());
    afterAll(async () => {
      await sshd.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('reconnects with backoff after the sshd session serving it is killed', async () => {
      const connection = await pool.connect(sshd, trusting(dir, sshd), {
        reconnect: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1_000 },
      });
      const changes: SshStateChange[] = [];
      connection.onStateChange((change) => changes.push(change));
      expect((await connection.exec('echo before')).stdout).toBe('before\n');
      const killed = sshd.dropSessions();
      expect(killed).toBeGreaterThan(0);
      await until('the drop to be noticed', () => changes.some((c) => c.state === 'reconnecting'));
      await expect(connection.exec('echo during')).rejects.toThrow(
        /not connected to root@127\.0\.0\.1/,
      );
      await connection.whenConnected(10_000);
      expect(changes.map((c) => c.state)).toEqual(['reconnecting', 'connected']);
      expect(changes[0]).toMatchObject({ attempt: 1, delayMs: 100 });
      expect((await connection.exec('hostname')).stdout).toBe(`${hostname()}\n`);
    });

    it('backs off exponentially and gives up after the bounded attempts when the host stays down', async () => {
      const doomed = await startSshd();
      try {
        const connection = await pool.connect(doomed, trusting(dir, doomed), {
          reconnect: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 120 },
          readyTimeoutMs: 2_000,
        });
        const changes: SshStateChange[] = [];
        connection.onStateChange((change) => changes.push(change));
        await doomed.stop();
        await until('the connection to fail', () => connection.state === 'failed');
        expect(changes.map((c) => [c.state, c.attempt, c.delayMs])).toEqual([
          ['reconnecting', 1, 50],
          ['reconnecting', 2, 100],
          ['reconnecting', 3, 120],
          ['failed', 0, null],
        ]);
        expect(changes.at(-1)?.error?.message).toMatch(
          /lost the SSH connection to root@127\.0\.0\.1:\d+ and could not reconnect: .*ECONNREFUSED/,
        );
      } finally {
        await doomed.stop();
      }
    });

    it('reaches a host through a jump host (ProxyJump), and only through it', async () => {
      const target = await startSshd();
      try {
        const jump = await pool.connect(sshd, trusting(dir, sshd), { reconnect: false });
        const through = await pool.connect(target, trusting(dir, target), {
          jump,
          reconnect: false,
        });
        expect((await through.exec('hostname')).stdout).toBe(`${hostname()}\n`);
        // The target's sshd saw the connection arrive from the jump host's forwarding.
        expect(target.log()).toMatch(/Accepted publickey for root from 127\.0\.0\.1/);
        // The bytes really flow through the jump: closing it takes the hop down.
        const changes: SshStateChange[] = [];
        through.onStateChange((change) => changes.push(change));
        await jump.dispose();
        await until('the hop to drop with its jump host', () => through.state === 'failed');
        expect(changes.map((c) => c.state)).toEqual(['failed']);
      } finally {
        await pool.disposeAll();
        await target.stop();
      }
    });
  },
);
