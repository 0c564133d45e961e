import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  entryMatchesHost,
  formatKnownHostsLine,
  knownHostsName,
  parseKnownHosts,
  wildcardMatch,
} from '../../../src-main/ssh/known-hosts-file';
import { fingerprintSha256, preferredHostKeyAlgorithms } from '../../../src-main/ssh/known-hosts';

// A real ed25519 public key (ssh-keygen output), and its fingerprint as `ssh-keygen -lf` prints it.
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIHCI7IvKNSAjNaWz5NB8ofLWksAMb3IDlZ/vefQwHFnb';
const BLOB = Buffer.from(ED25519, 'base64');

function hashedName(name: string, salt = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

describe('known_hosts parsing', () => {
  it('reads plain, [host]:port, comma-list, negated and hashed entries', () => {
    const text = [
      '# comment',
      '',
      `alpha,10.0.0.1 ssh-ed25519 ${ED25519} note`,
      `[127.0.0.1]:2222 ssh-ed25519 ${ED25519}`,
      `*.lab.example,!bad.lab.example ssh-ed25519 ${ED25519}`,
      `${hashedName('[10.9.9.9]:2200')} ssh-ed25519 ${ED25519}`,
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, 'kh');
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    const matching = (name: string): number[] =>
      entries.filter((e) => entryMatchesHost(e, name)).map((e) => e.line);
    expect(matching('alpha')).toEqual([3]);
    expect(matching('ALPHA')).toEqual([3]);
    expect(matching('10.0.0.1')).toEqual([3]);
    expect(matching(knownHostsName('127.0.0.1', 2222))).toEqual([4]);
    expect(matching('127.0.0.1')).toEqual([]);
    expect(matching('n1.lab.example')).toEqual([5]);
    expect(matching('bad.lab.example')).toEqual([]);
    expect(matching('[10.9.9.9]:2200')).toEqual([6]);
    expect(matching('10.9.9.9')).toEqual([]);
    expect(entries[0]?.keyBlob.equals(BLOB)).toBe(true);
  });

  it('skips bad lines, saying file:line and what is wrong', () => {
    const text = [
      'onlyhost',
      `host ssh-ed25519 not*base64`,
      `host ssh-rsa ${ED25519}`,
      `|1|c2FsdA==|aGFzaA== ssh-ed25519 ${ED25519}`,
      `|1|onlysalt ssh-ed25519 ${ED25519}`,
      `@bogus host ssh-ed25519 ${ED25519}`,
      `host ssh-ed25519 AAAA`,
      `good ssh-ed25519 ${ED25519}`,
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, '/home/u/.ssh/known_hosts');
    expect(entries.map((e) => e.line)).toEqual([8]);
    expect(problems.map((p) => `${p.file}:${String(p.line)}: ${p.message}`)).toEqual([
      '/home/u/.ssh/known_hosts:1: expected "host-patterns key-type base64-key [comment]"; the line has too few fields',
      '/home/u/.ssh/known_hosts:2: the key of type ssh-ed25519 is not base64',
      '/home/u/.ssh/known_hosts:3: the line says key type ssh-rsa but the key inside is ssh-ed25519',
      '/home/u/.ssh/known_hosts:4: hashed host name: salt and hash must be 20 bytes each (HMAC-SHA1)',
      '/home/u/.ssh/known_hosts:5: hashed host name must be |1|<base64 salt>|<base64 hash>',
      '/home/u/.ssh/known_hosts:6: unknown marker "@bogus"; expected @revoked or @cert-authority',
      '/home/u/.ssh/known_hosts:7: the key of type ssh-ed25519 is not a valid SSH public key blob',
    ]);
  });

  it('reads @revoked and @cert-authority markers', () => {
    const { entries } = parseKnownHosts(
      `@revoked * ssh-ed25519 ${ED25519}\n@cert-authority *.lab ssh-ed25519 ${ED25519}`,
      'kh',
    );
    expect(entries.map((e) => e.marker)).toEqual(['revoked', 'cert-authority']);
  });

  it('writes lines it reads back', () => {
    const line = formatKnownHostsLine('[h]:2022', BLOB);
    expect(line).toBe(`[h]:2022 ssh-ed25519 ${ED25519}`);
    const { entries } = parseKnownHosts(line, 'kh');
    expect(entries[0] !== undefined && entryMatchesHost(entries[0], '[h]:2022')).toBe(true);
    expect(() => formatKnownHostsLine('h', Buffer.from('junk'))).toThrow(/bad key blob/);
  });

  it('formats fingerprints as OpenSSH does (SHA256:, base64 without padding)', () => {
    // `ssh-keygen -lf` on this key printed this fingerprint.
    expect(fingerprintSha256(BLOB)).toBe('SHA256:6m1BlVs2mc6o4MmXd3j8HRrEngzuotTC5GIngcZ9exs');
  });

  it('globs like OpenSSH: * any run, ? one character', () => {
    expect(wildcardMatch('n?.lab', 'n1.lab')).toBe(true);
    expect(wildcardMatch('n?.lab', 'n12.lab')).toBe(false);
    expect(wildcardMatch('*', '')).toBe(true);
    expect(wildcardMatch('a*b*c', 'aXXbYYc')).toBe(true);
    expect(wildcardMatch('a*b*c', 'aXXbYY')).toBe(false);
    expect(wildcardMatch('[h]:22', '[h]:22')).toBe(true);
  });

  it('asks for known key types first, RSA under its SHA-2 signature names', () => {
    expect(preferredHostKeyAlgorithms(['ssh-rsa', 'ssh-ed25519'])).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
  });
});
