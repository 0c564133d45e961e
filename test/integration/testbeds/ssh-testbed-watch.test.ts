/**
 * The command shell's background notices against a real sshd: an agent watcher reports
 * through the same `sh` that runs the testbed's commands, so its report must come out whole
 * and apart from whatever command output it lands in, and an agent that dies on its own (not
 * by a testbed command) must reach the run as an `exited` notice with its signal.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../../src-main/ssh/ssh-connection';
import { RemoteShell } from '../../../src-main/testbeds/ssh/remote-shell';
import { SshTestbed } from '../../../src-main/testbeds/ssh/ssh-testbed';
import type { TestbedNotice } from '../../../src-main/testbeds/testbed';
import { sshdUnavailableReason, type TestSshd } from '../../support/sshd';
import { ConnectionPool } from '../ssh/ssh-test-kit';
import { knownHostsFor, startHosts, targetsFor } from './testbed-kit';

const unavailable = sshdUnavailableReason();
if (unavailable !== null) console.warn(`skipping SSH watcher tests: ${unavailable}`);

/** Stands in for the agent bundle: runs until killed, as an agent does. */
const IDLE_AGENT = 'setInterval(() => undefined, 1000);\n';

describe.skipIf(unavailable !== null)('command shell notices over a real sshd', () => {
  let sshds: TestSshd[] = [];
  let dir = '';
  const pool = new ConnectionPool();
  const testbeds: SshTestbed[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-sshwatch-'));
    sshds = await startHosts(1);
  }, 30_000);

  afterAll(async () => {
    for (const tb of testbeds) await tb.teardown({ grace_ms: 500 }).catch(() => undefined);
    await pool.disposeAll();
    await Promise.all(sshds.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  const connect = (): Promise<SshConnection> =>
    pool.connect(sshds[0]!, knownHostsFor(dir, `c${Date.now()}`, sshds));

  it('cuts a background notice out of the output of the command it lands in', async () => {
    const shell = await RemoteShell.open(await connect());
    const notices: [string, string][] = [];
    shell.onNotice((tag, text) => notices.push([tag, text]));
    try {
      const pid = (await shell.run('sleep 30 >/dev/null 2>&1 & echo $!', 10_000)).stdout.trim();
      expect(pid).toMatch(/^\d+$/);
      // The watcher polls every 10 ms and reports "done <status>" once the process is gone.
      const watcher =
        `( while kill -0 ${pid} 2>/dev/null; do sleep 0.01; done; ` +
        `${shell.noticeCommand('job:1', '"done $?"')} ) 2>/dev/null &`;
      expect((await shell.run(watcher, 10_000)).code).toBe(0);
      // A foreground command printing numbered lines while the process is killed under it.
      const lines = 400;
      const run = shell.run(
        `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i+1)); ` +
          `[ $i -eq 50 ] && kill -9 ${pid}; [ $((i % 50)) -eq 0 ] && sleep 0.02; done`,
        10_000,
      );
      const result = await run;
      expect(result.code).toBe(0);
      expect(result.stdout.trimEnd().split('\n')).toEqual(
        Array.from({ length: lines }, (_, i) => `line ${i}`),
      );
      for (let i = 0; i < 100 && notices.length === 0; i++) await sleep(20);
      expect(notices).toEqual([['job:1', 'done 0']]);
      // Output that merely holds the record separator is output, not a notice.
      const plain = await shell.run(`printf 'a\\036b\\037c\\n'`, 10_000);
      expect(plain.stdout).toBe('a\x1eb\x1fc\n');
      expect(notices).toHaveLength(1);
    } finally {
      shell.close();
    }
  });

  it(
    'reports an agent that dies on its own as exited, with its signal',
    { timeout: 30_000 },
    async () => {
      const bundlePath = join(dir, 'idle-agent.cjs');
      await writeFile(bundlePath, IDLE_AGENT);
      const sha256 = createHash('sha256').update(IDLE_AGENT).digest('hex');
      const tb = new SshTestbed({
        targets: targetsFor(sshds, join(dir, 'host')),
        knownHosts: knownHostsFor(dir, 'watch', sshds),
        agentSocket: null,
        bundle: () => Promise.resolve({ path: bundlePath, sha256 }),
      });
      testbeds.push(tb);
      const notices: TestbedNotice[] = [];
      tb.onNotice((n) => notices.push(n));
      await tb.provision('watch-run', [{ id: 'n1', role: 'replica' }]);
      await tb.deploy();
      await tb.start('n1');
      const pid = tb.pid('n1');
      expect(pid).not.toBeNull();
      // Out of band, as a crash or the OOM killer would: not through the testbed.
      const killed = await (await connect()).exec(`kill -9 ${String(pid)}`);
      expect(killed.code).toBe(0);
      const exited = async (): Promise<TestbedNotice | undefined> => {
        for (let i = 0; i < 250; i++) {
          const n = notices.find((x) => x.kind === 'exited');
          if (n !== undefined) return n;
          await sleep(20);
        }
        return undefined;
      };
      expect(await exited()).toEqual({ kind: 'exited', node: 'n1', code: null, signal: 'SIGKILL' });
      expect(tb.state('n1')).toBe('exited');
      await tb.teardown({ grace_ms: 500 });
    },
  );
});
