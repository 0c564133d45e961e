import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultlabInPty } from '../../support/cli-in-pty';
import { makeEncryptedKey } from '../../support/ssh-keys';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../../support/sshd';

/**
 * `faultlab preflight` on a terminal with an encrypted identity file: the passphrase is asked
 * without echo (the typed characters never appear in the output), a wrong one is asked again,
 * the right one connects and the preflight passes. Driven through a real pty (node-pty), as a
 * person at a terminal would.
 */
const PASSPHRASE = 'correct horse battery staple';
const WRONG = 'tr0ub4dor-and-3';
const QUIET_PAXOS_LAB = `version: 1
name: quiet-paxos
title: Three Paxos replicas, no faults
stack: paxos
nodes: 3
testbed: local
duration: 4s
seed: 1
workload: { clients: 2, mode: closed, keys: 5 }
checks: { linearizable: true, agreement: true }
`;
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
    const cli = faultlabInPty(
      ['preflight', '--testbed', 'ssh', '--inventory', inventory, '--known-hosts', knownHosts],
      { XDG_CONFIG_HOME: dir },
    );
    try {
      await cli.waitForText("Enter passphrase for key '", 30_000);
      cli.type(`${WRONG}\r`);
      await cli.waitForText('Wrong passphrase. Enter passphrase', 30_000);
      cli.type(`${PASSPHRASE}\r`);
      expect(await cli.exitCode(60_000), cli.output()).toBe(0);
      expect(cli.output()).toMatch(/reachable/);
      expect(cli.output()).not.toContain(WRONG);
      expect(cli.output()).not.toContain(PASSPHRASE);
    } finally {
      cli.dispose();
    }
  }, 120_000);

  it("faultlab run: asks once for all of the testbed's connects, and the operator console never sees the passphrase", async () => {
    const out = join(dir, 'runs');
    // A lab without faults: this test is about the prompt, and a failover bound measured on a
    // loaded CI machine would make its exit code depend on timing, not on the prompt.
    const lab = join(dir, 'quiet-paxos.yaml');
    await writeFile(lab, QUIET_PAXOS_LAB);
    const cli = faultlabInPty(
      [
        'run',
        lab,
        '--testbed',
        'ssh',
        '--inventory',
        inventory,
        '--known-hosts',
        knownHosts,
        '--duration',
        '4s',
        '--out',
        out,
      ],
      { XDG_CONFIG_HOME: dir },
    );
    try {
      await cli.waitForText("Enter passphrase for key '", 60_000);
      cli.type(`${PASSPHRASE}\r`);
      // The operator console works after the prompt (it was only detached while it was open).
      await cli.waitForText('recording to ', 60_000);
      cli.type('help\r');
      await cli.waitForText('partition <isolate|halves', 30_000);
      expect(await cli.exitCode(90_000), cli.output()).toBe(0);
      // One question for the two connection sets to the host (commands and streams).
      expect(cli.output().split('Enter passphrase for key').length - 1).toBe(1);
      expect(cli.output()).not.toContain(PASSPHRASE);
      expect(cli.output()).not.toMatch(/unknown command/);
    } finally {
      cli.dispose();
    }
  }, 180_000);
});
