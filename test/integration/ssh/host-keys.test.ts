/**
 * Host-key verification against a real sshd (issue 5, acceptance 2): unknown key refused without
 * acceptance, an accepted fingerprint remembered in FaultLab's file (never ~/.ssh/known_hosts),
 * a changed key refused with both fingerprints, hashed known_hosts entries honoured.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError } from '../../../src-main/ssh/host-key-policy';
import { fingerprintSha256 } from '../../../src-main/ssh/known-hosts';
import {
  SSH_KEYGEN_PATH,
  sshdUnavailableReason,
  startSshd,
  type TestSshd,
} from '../../support/sshd';
import { ConnectionPool, freshKnownHosts, opensshFingerprint } from './ssh-test-kit';

const unavailable = sshdUnavailableReason();
if (unavailable !== null) console.warn(`skipping SSH host-key tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('host keys against real OpenSSH', { timeout: 30_000 }, () => {
  let sshd: TestSshd;
  let dir: string;
  const pool = new ConnectionPool();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultlab-ssh-hostkeys-'));
    sshd = await startSshd();
  });
  afterEach(() => pool.disposeAll());
  afterAll(async () => {
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('our fingerprint equals ssh-keygen -lf for the server key', () => {
    const blob = Buffer.from(String(sshd.hostPublicKey.split(' ')[1]), 'base64');
    expect(fingerprintSha256(blob)).toBe(opensshFingerprint(`${sshd.hostKeyPath}.pub`));
  });

  it('refuses an unknown host key without acceptance and names its SHA256 fingerprint', async () => {
    const knownHosts = freshKnownHosts(dir);
    const expected = opensshFingerprint(`${sshd.hostKeyPath}.pub`);
    const refused = await pool.connect(sshd, knownHosts).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(HostKeyError);
    const error = refused as HostKeyError;
    expect(error.rejection).toBe('unknown');
    expect(error.message).toContain(expected);
    expect(error.message).toContain(`127.0.0.1:${String(sshd.port)}`);
    // Declining in the prompt is a refusal too, and the prompt saw the right fingerprint.
    const asked: string[] = [];
    await expect(
      pool.connect(sshd, knownHosts, {
        acceptUnknownHost: (fingerprint, host) => {
          asked.push(`${fingerprint} ${host}`);
          return Promise.resolve(false);
        },
      }),
    ).rejects.toThrow(expected);
    expect(asked).toEqual([`${expected} 127.0.0.1:${String(sshd.port)}`]);
    expect(existsSync(knownHosts.files.faultlabFile)).toBe(false);
  });

  it('remembers an accepted fingerprint in FaultLab’s file only; the next connect asks nothing', async () => {
    const knownHosts = freshKnownHosts(dir);
    writeFileSync(knownHosts.files.userFile, '# the user’s own file, must stay untouched\n');
    const userBefore = readFileSync(knownHosts.files.userFile, 'utf8');
    let asked = 0;
    const first = await pool.connect(sshd, knownHosts, {
      acceptUnknownHost: () => {
        asked += 1;
        return Promise.resolve(true);
      },
    });
    expect((await first.exec('echo first')).stdout).toBe('first\n');
    expect(asked).toBe(1);
    const remembered = readFileSync(knownHosts.files.faultlabFile, 'utf8');
    expect(remembered).toContain(`[127.0.0.1]:${String(sshd.port)} ssh-ed25519 `);
    expect(readFileSync(knownHosts.files.userFile, 'utf8')).toBe(userBefore);
    const second = await pool.connect(sshd, knownHosts, {
      acceptUnknownHost: () => Promise.reject(new Error('must not be asked again')),
    });
    expect((await second.exec('echo second')).stdout).toBe('second\n');
  });

  it('accepts a host listed in a hashed known_hosts (ssh-keygen -H)', async () => {
    const knownHosts = freshKnownHosts(dir);
    const [type, key] = sshd.hostPublicKey.split(' ');
    writeFileSync(
      knownHosts.files.userFile,
      `[127.0.0.1]:${String(sshd.port)} ${String(type)} ${String(key)}\n`,
    );
    execFileSync(SSH_KEYGEN_PATH, ['-H', '-f', knownHosts.files.userFile], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    const hashed = readFileSync(knownHosts.files.userFile, 'utf8');
    expect(hashed.startsWith('|1|')).toBe(true);
    expect(hashed).not.toContain('127.0.0.1');
    const connection = await pool.connect(sshd, knownHosts);
    expect((await connection.exec('echo hashed-ok')).stdout).toBe('hashed-ok\n');
  });

  it('refuses a changed host key, naming host:port and both fingerprints, even if acceptance is offered', async () => {
    const changing = await startSshd();
    try {
      const knownHosts = freshKnownHosts(dir);
      const oldFingerprint = opensshFingerprint(`${changing.hostKeyPath}.pub`);
      await pool.connect(changing, knownHosts, { acceptUnknownHost: () => Promise.resolve(true) });
      await pool.disposeAll();
      await changing.restartWithNewHostKey();
      const newFingerprint = opensshFingerprint(`${changing.hostKeyPath}.pub`);
      expect(newFingerprint).not.toBe(oldFingerprint);
      let asked = 0;
      const refused = await pool
        .connect(changing, knownHosts, {
          acceptUnknownHost: () => {
            asked += 1;
            return Promise.resolve(true);
          },
        })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(refused).toBeInstanceOf(HostKeyError);
      const error = refused as HostKeyError;
      expect(error.rejection).toBe('changed');
      expect(error.message).toContain('HOST KEY CHANGED');
      expect(error.message).toContain(`127.0.0.1:${String(changing.port)}`);
      expect(error.message).toContain(oldFingerprint);
      expect(error.message).toContain(newFingerprint);
      expect(error.message).toContain(knownHosts.files.faultlabFile);
      expect(asked).toBe(0);
    } finally {
      await pool.disposeAll();
      await changing.stop();
    }
  });
});
