import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError, loadInventory, parseInventory } from '../../../src-main/ssh/inventory';
import { SshConfig } from '../../../src-main/ssh/ssh-config';
import { resolveTarget } from '../../../src-main/ssh/ssh-target';

const GOOD = `hosts:
  - name: n1
    host: 10.0.0.11
    user: lab
    port: 2222
    identityFile: ~/.ssh/lab_key
    jump: gate
    workDir: /var/tmp/faultlab
  - name: gate
    host: gate.example.org
  - cfg-host
`;

function issuesOf(text: string): string[] {
  try {
    parseInventory(text, 'inv.yaml');
  } catch (err) {
    if (err instanceof InventoryError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected an InventoryError');
}

describe('SSH inventory', () => {
  it('reads hosts, bare names included', () => {
    const inventory = parseInventory(GOOD, 'inv.yaml');
    expect(inventory.hosts).toEqual([
      {
        name: 'n1',
        host: '10.0.0.11',
        user: 'lab',
        port: 2222,
        identityFile: '~/.ssh/lab_key',
        jump: 'gate',
        workDir: '/var/tmp/faultlab',
      },
      { name: 'gate', host: 'gate.example.org' },
      { name: 'cfg-host' },
    ]);
  });

  it('names file, line and field for each mistake', () => {
    expect(
      issuesOf(`hosts:
  - name: n1
    port: 70000
    identityfile: ~/.ssh/x
  - name: bad name
    workDir: relative/dir
`),
    ).toEqual([
      'inv.yaml:3: hosts[0].port: expected a number at most 65535, got 70000',
      'inv.yaml:4: hosts[0].identityfile: unknown field; a host has name, host, user, port, identityFile, jump, workDir',
      'inv.yaml:5: hosts[1].name: expected a name of letters, digits, ".", "_" or "-" (e.g. n1, lab-03)',
      'inv.yaml:6: hosts[1].workDir: expected an absolute remote path (/… or ~/…)',
    ]);
  });

  it('rejects duplicates and jump loops, at the offending line', () => {
    expect(
      issuesOf(`hosts:
  - name: a
    jump: b
  - name: b
    jump: a
  - name: a
`),
    ).toEqual([
      'inv.yaml:3: hosts[0].jump: jump hosts form a loop: a → b → a',
      'inv.yaml:5: hosts[1].jump: jump hosts form a loop: b → a → b',
      'inv.yaml:6: hosts[2].name: duplicate host name "a" (first at hosts[0]); names must be unique',
    ]);
  });

  it('explains YAML syntax errors, a wrong top level and a missing file', () => {
    expect(issuesOf('hosts:\n  - name: n1\n   bad: indent\n')[0]).toMatch(
      /^inv\.yaml:3: \(YAML syntax\): /,
    );
    expect(issuesOf('- n1\n- n2\n')).toEqual([
      'inv.yaml:1: (top level): expected a map with a "hosts:" list',
    ]);
    expect(issuesOf('hosts: []\n')).toEqual([
      'inv.yaml:1: hosts: expected at least 1 item(s), got a list ([])',
    ]);
    expect(() => loadInventory('/nonexistent/inventory.yaml')).toThrow(
      '/nonexistent/inventory.yaml: (file): no such file; give the path of an inventory YAML (hosts: [...])',
    );
  });
});

describe('SSH targets: inventory over ~/.ssh/config', () => {
  const config = SshConfig.parse(
    `Host cfg-host
  HostName 192.168.7.7
  User cfguser
  Port 2200
  IdentityFile /keys/cfg
  ProxyJump hop1@gate:2022

Host gate.example.org gate
  User gateuser
`,
    'cfg',
  );
  const inventory = parseInventory(GOOD, 'inv.yaml');

  it('lets inventory fields win and resolves the jump host from the inventory', () => {
    const n1 = resolveTarget('n1', inventory, config);
    expect(n1).toMatchObject({
      name: 'n1',
      host: '10.0.0.11',
      port: 2222,
      user: 'lab',
      identityFiles: [join(homedir(), '.ssh/lab_key')],
      workDir: '/var/tmp/faultlab',
    });
    expect(n1.jump).toMatchObject({
      name: 'gate',
      host: 'gate.example.org',
      user: 'gateuser',
      port: 22,
      jump: null,
    });
  });

  it('fills a bare name from the ssh config, ProxyJump included', () => {
    const target = resolveTarget('cfg-host', inventory, config);
    expect(target).toMatchObject({
      host: '192.168.7.7',
      port: 2200,
      user: 'cfguser',
      identityFiles: ['/keys/cfg'],
      workDir: null,
    });
    expect(target.jump).toMatchObject({ host: 'gate', user: 'hop1', port: 2022, jump: null });
  });

  it('falls back to the local user and OpenSSH default keys', () => {
    const target = resolveTarget('elsewhere', null, SshConfig.parse('', 'cfg'));
    expect(target.user).toBe(userInfo().username);
    expect(target.identityFiles).toEqual(
      ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)),
    );
  });

  it('stops a ProxyJump loop in the ssh config', () => {
    const loop = SshConfig.parse('Host a\n ProxyJump b\nHost b\n ProxyJump a\n', 'cfg');
    expect(() => resolveTarget('a', null, loop)).toThrow(
      /nest deeper than 8 hops; check jump\/ProxyJump for a loop/,
    );
  });
});
