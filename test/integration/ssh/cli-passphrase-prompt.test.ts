import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, type IPty } from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEncryptedKey } from '../../support/ssh-keys';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../../support/sshd';

/**
 * `faultlab preflight` on a terminal with an encrypted identity file: the passphrase is asked
 * without echo (the typed characters never appear in the output), a wrong one is asked again,
 * the right one connects and the preflight passes. Driven through a real pty (node-pty), as a
 * person at a terminal would.
 */
const REPO = resolve(import.meta.dirname, '../../..');
const PASSPHRASE = 'correct horse battery staple';
const WRONG = 'tr0ub4dor-and-3';
const skipReason = sshdUnavailableReason();
if (skipReason !== null) console.warn(`skipping the CLI passphrase prompt test: ${skipReason}`);

describe.skipIf(skipReason !== null)('the CLI passphrase prompt (a real pty, a real sshd)', () => {
  let sshd: TestSshd;
  let dir: string;
  let inventory: string;
  let knownHosts: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultlab-cli-passphrase-'));
    const key = join(dir, 'encrypted_ed25519');
    sshd = await startSshd({ extraAuthorizedKeys: [makeEncryptedKey(key, PASSPHRASE)] });
    inventory = join(dir, 'hosts.yaml');
    await writeFile(
      inventory,
      `hosts:\n  - name: lab1\n    host: 127.0.0.1\n    port: ${sshd.port}\n    user: root\n    identityFile: ${key}\n`,
    );
    knownHosts = join(dir, 'known_hosts');
    await writeFile(
      knownHosts,
      `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey.split(' ').slice(0, 2).join(' ')}\n`,
    );
  }, 30_000);

  afterAll(async () => {
    await sshd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('asks without echo, asks again after a wrong passphrase, and connects with the right one', async () => {
    const pty: IPty = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'src-main/cli/faultlab.ts'),
        'preflight',
        '--testbed',
        'ssh',
        '--inventory',
        inventory,
        '--known-hosts',
        knownHosts,
      ],
      { cwd: REPO, cols: 160, rows: 40, env: { ...process.env, XDG_CONFIG_HOME: dir } },
    );
    let output = '';
    pty.onData((d) => (output += d));
    const exited = new Promise<number>((done) => pty.onExit(({ exitCode }) => done(exitCode)));
    const waitForText = async (text: string, timeout_ms: number): Promise<void> => {
      const deadline = Date.now() + timeout_ms;
      while (!output.includes(text)) {
        if (Date.now() > deadline) {
          throw new Error(
            `no "${text}" on the terminal within ${timeout_ms} ms; it shows:\n${output}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await waitForText("Enter passphrase for key '", 30_000);
      pty.write(`${WRONG}\r`);
      await waitForText('Wrong passphrase. Enter passphrase', 30_000);
      pty.write(`${PASSPHRASE}\r`);
      const code = await Promise.race([
        exited,
        new Promise<number>((_, fail) =>
          setTimeout(() => fail(new Error(`preflight did not end:\n${output}`)), 60_000),
        ),
      ]);
      expect(code, output).toBe(0);
      expect(output).toMatch(/reachable/);
      expect(output).not.toContain(WRONG);
      expect(output).not.toContain(PASSPHRASE);
    } finally {
      try {
        pty.kill();
      } catch {
        // Already exited.
      }
    }
  }, 120_000);

  it("faultlab run: asks once for all of the testbed's connects, and the operator console never sees the passphrase", async () => {
    const out = join(dir, 'runs');
    const pty: IPty = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'src-main/cli/faultlab.ts'),
        'run',
        join(REPO, 'labs/paxos-leader-crash/lab.yaml'),
        '--testbed',
        'ssh',
        '--inventory',
        inventory,
        '--known-hosts',
        knownHosts,
        '--nodes',
        '3',
        '--duration',
        '6s',
        '--out',
        out,
      ],
      { cwd: REPO, cols: 160, rows: 40, env: { ...process.env, XDG_CONFIG_HOME: dir } },
    );
    let output = '';
    pty.onData((d) => (output += d));
    const exited = new Promise<number>((done) => pty.onExit(({ exitCode }) => done(exitCode)));
    const waitForText = async (text: string, timeout_ms: number): Promise<void> => {
      const deadline = Date.now() + timeout_ms;
      while (!output.includes(text)) {
        if (Date.now() > deadline) {
          throw new Error(
            `no "${text}" on the terminal within ${timeout_ms} ms; it shows:\n${output}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await waitForText("Enter passphrase for key '", 60_000);
      pty.write(`${PASSPHRASE}\r`);
      // The operator console works after the prompt (it was only detached while it was open).
      await waitForText('recording to ', 60_000);
      pty.write('help\r');
      await waitForText('partition <isolate|halves', 30_000);
      const code = await Promise.race([
        exited,
        new Promise<number>((_, fail) =>
          setTimeout(() => fail(new Error(`the run did not end:\n${output}`)), 90_000),
        ),
      ]);
      expect(code, output).toBe(0);
      // One question for the two connection sets to the host (commands and streams).
      expect(output.split('Enter passphrase for key').length - 1).toBe(1);
      expect(output).not.toContain(PASSPHRASE);
      expect(output).not.toMatch(/unknown command/);
    } finally {
      try {
        pty.kill();
      } catch {
        // Already exited.
      }
    }
  }, 180_000);
});
