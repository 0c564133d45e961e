import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintSha256, KnownHosts } from '../../../src-main/ssh/known-hosts';

// Two real ed25519 public keys (ssh-keygen output).
const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIHCI7IvKNSAjNaWz5NB8ofLWksAMb3IDlZ/vefQwHFnb';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIMpJziHLklFEDh6Mmzm6D10wAtNDAVKXrTQjKNssLnM3';
const A = Buffer.from(KEY_A, 'base64');
const B = Buffer.from(KEY_B, 'base64');

describe('KnownHosts.check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultlab-kh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const userFile = join(dir, 'user_known_hosts');
  const faultlabFile = join(dir, 'faultlab', 'known_hosts');
  const knownHosts = new KnownHosts({ userFile, faultlabFile });
  writeFileSync(
    userFile,
    [
      `[h1]:2222 ssh-ed25519 ${KEY_A}`,
      `broken line`,
      `@revoked h3 ssh-ed25519 ${KEY_B}`,
      `h3 ssh-ed25519 ${KEY_A}`,
      '',
    ].join('\n'),
  );

  it('classifies known, unknown, changed and revoked keys', async () => {
    expect((await knownHosts.check('h1', 2222, A)).check).toEqual({
      kind: 'known',
      fingerprint: fingerprintSha256(A),
      file: userFile,
      line: 1,
    });
    expect((await knownHosts.check('h1', 22, A)).check.kind).toBe('unknown');
    expect((await knownHosts.check('h2', 2222, A)).check).toEqual({
      kind: 'unknown',
      fingerprint: fingerprintSha256(A),
      keyType: 'ssh-ed25519',
    });
    expect((await knownHosts.check('h1', 2222, B)).check).toEqual({
      kind: 'changed',
      fingerprint: fingerprintSha256(B),
      keyType: 'ssh-ed25519',
      known: [
        { fingerprint: fingerprintSha256(A), keyType: 'ssh-ed25519', file: userFile, line: 1 },
      ],
    });
    expect((await knownHosts.check('h3', 22, B)).check.kind).toBe('revoked');
  });

  it('reports skipped lines as warnings with file:line', async () => {
    const { warnings } = await knownHosts.check('h1', 2222, A);
    expect(warnings).toEqual([
      `${userFile}:2: expected "host-patterns key-type base64-key [comment]"; the line has too few fields`,
    ]);
  });

  it('remembers in FaultLab’s file (0600), never in the user’s', async () => {
    const before = readFileSync(userFile, 'utf8');
    await knownHosts.remember('h2', 2222, A);
    expect(readFileSync(userFile, 'utf8')).toBe(before);
    expect(readFileSync(faultlabFile, 'utf8')).toBe(`[h2]:2222 ssh-ed25519 ${KEY_A}\n`);
    expect(statSync(faultlabFile).mode & 0o777).toBe(0o600);
    expect((await knownHosts.check('h2', 2222, A)).check).toMatchObject({
      kind: 'known',
      file: faultlabFile,
      line: 1,
    });
    expect(await knownHosts.knownKeyTypes('h2', 2222)).toEqual(['ssh-ed25519']);
  });

  it('says which file it cannot read', async () => {
    const unreadable = new KnownHosts({ userFile: dir, faultlabFile });
    await expect(unreadable.check('h1', 22, A)).rejects.toThrow(
      `cannot read known-hosts file ${dir}: EISDIR`,
    );
  });
});
