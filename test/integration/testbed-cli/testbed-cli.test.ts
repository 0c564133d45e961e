/**
 * `faultlab testbed up|list|down` as a user runs them (the real CLI in a child process):
 * up brings 3 namespaces with their sshds up and writes an inventory and a known-hosts file
 * that the SSH client accepts as they are; list shows the testbed; down removes it, and
 * afterwards no namespace, link, nft table, process or file of it remains. Without root, up
 * refuses with a message pointing to the local testbed.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src-main/ssh/inventory';
import { KnownHosts } from '../../../src-main/ssh/known-hosts';
import { SshConnection } from '../../../src-main/ssh/ssh-connection';
import { resolveTarget } from '../../../src-main/ssh/ssh-target';
import { SshConfig } from '../../../src-main/ssh/ssh-config';
import { findTool } from '../../../src-main/testbeds/netns/run-tool';

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..', '..');
const ID = `c${process.pid.toString(36).slice(-4)}`;

function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'nft', 'tc', 'sshd', 'ssh-keygen', 'unshare', 'setpriv']) {
    try {
      findTool(tool);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}
const skipReason = missingPrerequisite();
if (skipReason !== null) console.log(`testbed CLI test skipped: ${skipReason}`);

interface CliResult {
  readonly code: number;
  readonly out: string;
}

/** `faultlab <args>` in a child process, with our own runtime dir; never throws on exit codes. */
async function faultlab(
  args: readonly string[],
  env: Record<string, string>,
  asUser?: number,
): Promise<CliResult> {
  const node = [process.execPath, '--import', 'tsx', join(REPO, 'src-main/cli/faultlab.ts')];
  const argv =
    asUser === undefined
      ? [...node, ...args]
      : [
          findTool('setpriv'),
          `--reuid=${asUser}`,
          `--regid=${asUser}`,
          '--clear-groups',
          ...node,
          ...args,
        ];
  try {
    const r = await run(argv[0] as string, argv.slice(1), {
      cwd: REPO,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout}${e.stderr}` };
  }
}

function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd}`);
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

describe.skipIf(skipReason !== null)('faultlab testbed up / list / down', () => {
  let runtimeDir = '';
  let env: Record<string, string> = {};

  beforeAll(async () => {
    // Under /run, not /tmp: sshd's StrictModes refuses keys below a world-writable directory.
    runtimeDir = await mkdtemp('/run/fl-tbcli-');
    env = { FAULTLAB_RUNTIME_DIR: runtimeDir };
  });
  afterAll(async () => {
    // Whatever a failed assertion left: down again (idempotent), then the runtime dir.
    await faultlab(['testbed', 'down', '--all'], env);
    await rm(runtimeDir, { recursive: true, force: true });
  }, 60_000);

  it(
    'up 3 writes a usable inventory and known-hosts file; list shows it; down leaves nothing',
    { timeout: 120_000 },
    async () => {
      const up = await faultlab(
        ['testbed', 'up', '--kind', 'netns', '--nodes', '3', '--id', ID],
        env,
      );
      console.log(up.out);
      expect(up.code, up.out).toBe(0);
      const folder = join(runtimeDir, `netns-${ID}`);
      const inventoryPath = join(folder, 'inventory.yaml');
      const knownHostsPath = join(folder, 'known_hosts');
      expect(up.out).toContain(
        `faultlab run <lab.yaml> --testbed ssh --inventory ${inventoryPath} --known-hosts ${knownHostsPath}`,
      );
      for (const i of [1, 2, 3])
        expect(up.out).toMatch(new RegExp(`n${i}\\s+10\\.\\d+\\.\\d+\\.1${i}`));

      // The files are what `run --testbed ssh` reads: connect to a host with exactly them.
      const inventory = loadInventory(inventoryPath);
      expect(inventory.hosts.map((h) => h.name)).toEqual(['n1', 'n2', 'n3']);
      const target = resolveTarget('n2', inventory, SshConfig.parse('', '(no ssh config)'));
      const conn = await SshConnection.connect({
        host: target.host,
        port: target.port,
        user: target.user,
        identityFiles: target.identityFiles,
        knownHosts: new KnownHosts({
          userFile: knownHostsPath,
          faultlabFile: join(folder, 'known_hosts.faultlab'),
        }),
        agentSocket: null,
        reconnect: false,
      });
      try {
        const ns = await conn.exec('ip netns identify $$');
        expect(ns.stdout.trim()).toBe(`fl-${ID}-n2`);
      } finally {
        await conn.dispose();
      }

      const list = await faultlab(['testbed', 'list'], env);
      expect(list.code, list.out).toBe(0);
      expect(list.out).toMatch(new RegExp(`${ID}\\s+3\\s+\\S+\\s+up \\(kept\\)`));

      const down = await faultlab(['testbed', 'down', '--id', ID], env);
      expect(down.code, down.out).toBe(0);
      expect(down.out).toContain(`testbed ${ID}: removed processes`);

      const namespaces = (await run(findTool('ip'), ['netns', 'list'])).stdout;
      const links = (await run(findTool('ip'), ['link', 'show'])).stdout;
      const tables = (await run(findTool('nft'), ['list', 'tables'])).stdout;
      expect(namespaces.split('\n').filter((l) => l.includes(ID))).toEqual([]);
      expect(links.split('\n').filter((l) => l.includes(ID))).toEqual([]);
      expect(tables.split('\n').filter((l) => l.includes(ID))).toEqual([]);
      expect(processesMentioning(`netns-${ID}`)).toEqual([]);
      expect(existsSync(folder)).toBe(false);
      const after = await faultlab(['testbed', 'list'], env);
      expect(after.out).not.toContain(ID);
    },
  );

  it('without root: up refuses and points to the local testbed', { timeout: 60_000 }, async () => {
    const r = await faultlab(
      ['testbed', 'up', '--kind', 'netns', '--nodes', '2'],
      { ...env, HOME: '/tmp' },
      65534,
    );
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/needs root/);
    expect(r.out).toContain('--testbed local');
  });
});
