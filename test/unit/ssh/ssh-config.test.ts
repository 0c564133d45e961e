import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SshConfig, SshConfigError } from '../../../src-main/ssh/ssh-config';

const CONFIG = `
# global options come first and apply to every host
ServerAliveInterval 10

Host n? !n9
    HostName 10.0.0.1%h
    User lab
    Port 2201
    IdentityFile ~/.ssh/lab_%h_%r
    ProxyJump bastion

Host bastion
  HostName=bastion.example.org
  User = jumper
  IdentityFile "/keys/with space/id"

Host n9
  HostName 10.0.0.99

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/id_ed25519
`;

describe('OpenSSH client config', () => {
  const config = SshConfig.parse(CONFIG, '/home/u/.ssh/config');

  it('takes the first value per option, accumulating IdentityFile, with tokens and ~ expanded', () => {
    const n1 = config.resolve('n1');
    expect(n1).toEqual({
      name: 'n1',
      hostName: '10.0.0.1n1',
      user: 'lab',
      port: 2201,
      identityFiles: [
        join(homedir(), '.ssh/lab_10.0.0.1n1_lab'),
        join(homedir(), '.ssh/id_ed25519'),
      ],
      proxyJump: [{ user: null, host: 'bastion', port: null }],
    });
  });

  it('honours negated patterns, = separators and quoted values', () => {
    const n9 = config.resolve('n9');
    expect(n9.hostName).toBe('10.0.0.99');
    expect(n9.user).toBe('fallback');
    expect(n9.proxyJump).toEqual([]);
    const bastion = config.resolve('bastion');
    expect(bastion.hostName).toBe('bastion.example.org');
    expect(bastion.user).toBe('jumper');
    expect(bastion.identityFiles[0]).toBe('/keys/with space/id');
  });

  it('resolves an unlisted name to itself with the defaults', () => {
    const empty = SshConfig.parse('', 'cfg').resolve('plain.host');
    expect(empty).toEqual({
      name: 'plain.host',
      hostName: 'plain.host',
      user: null,
      port: 22,
      identityFiles: [],
      proxyJump: [],
    });
    expect(userInfo().username.length).toBeGreaterThan(0);
  });

  it('parses ProxyJump chains with users, ports and bracketed IPv6', () => {
    const chain = SshConfig.parse('Host t\n ProxyJump a@h1:2022,[::1]:23,h3', 'cfg').resolve('t');
    expect(chain.proxyJump).toEqual([
      { user: 'a', host: 'h1', port: 2022 },
      { user: null, host: '::1', port: 23 },
      { user: null, host: 'h3', port: null },
    ]);
    expect(SshConfig.parse('Host t\n ProxyJump none', 'cfg').resolve('t').proxyJump).toEqual([]);
  });

  it('reports bad values with file and line', () => {
    const badPort = SshConfig.parse('Host x\n  Port 99999\n', '/cfg');
    expect(() => badPort.resolve('x')).toThrow(SshConfigError);
    expect(() => badPort.resolve('x')).toThrow(
      '/cfg:2: Port "99999" is not a port number (1–65535)',
    );
    expect(() => SshConfig.parse('Host x\n  ProxyJump @h\n', '/cfg').resolve('x')).toThrow(
      '/cfg:2: ProxyJump hop "@h" is not [user@]host[:port]',
    );
    expect(() => SshConfig.parse('Host x\n  User\n', '/cfg')).toThrow(
      '/cfg:2: user: missing value',
    );
    expect(() => SshConfig.parse('Host x\n  IdentityFile "/a b\n', '/cfg')).toThrow(
      '/cfg:2: unbalanced double quote',
    );
  });

  it('skips Match blocks with a warning instead of guessing', () => {
    const withMatch = SshConfig.parse(
      'Match exec "true"\n  User matched\nHost *\n  User plain\n',
      '/cfg',
    );
    expect(withMatch.resolve('x').user).toBe('plain');
    expect(withMatch.warnings[0]).toMatch(/^\/cfg:1: "Match exec true" is not evaluated/);
  });

  describe('files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultlab-sshcfg-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('follows Include (relative to the config directory, with a glob)', () => {
      writeFileSync(join(dir, 'config'), 'Include conf.d/*.conf\nHost *\n  User base\n');
      const sub = join(dir, 'conf.d');
      mkdirSync(sub);
      // Not matched by the glob: must not apply.
      writeFileSync(join(sub, 'lab.conf.bak'), 'Host n1\n  User wrong\n');
      writeFileSync(join(sub, 'lab.conf'), 'Host n1\n  User included\n');
      const loaded = SshConfig.load(join(dir, 'config'));
      expect(loaded.resolve('n1').user).toBe('included');
      expect(loaded.resolve('other').user).toBe('base');
    });

    it('treats a missing default file as empty but names an unreadable Include', () => {
      expect(SshConfig.load(join(dir, 'absent')).resolve('h').hostName).toBe('h');
      writeFileSync(join(dir, 'broken'), 'Include /nonexistent/faultlab/cfg\n');
      expect(() => SshConfig.load(join(dir, 'broken'))).toThrow(
        /^\/nonexistent\/faultlab\/cfg: cannot read the SSH config/,
      );
    });
  });
});
