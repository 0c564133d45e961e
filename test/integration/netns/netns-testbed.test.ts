/**
 * The netns testbed on real namespaces (root): up, reachability, per-node sshd, kernel
 * partitions / one-way cuts / bandwidth, down, and the cleanup of a crashed run. Bounded in
 * time; afterAll takes everything down even when a test failed.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeId } from '../../../src-node-agent/core/ids';
import { KernelFaultController } from '../../../src-main/testbeds/netns/kernel-faults';
import type { NodeAddress } from '../../../src-main/testbeds/netns/kernel-fault-plan';
import {
  bridgeName,
  namespaceName,
  nftTableName,
  runtimeDirFromEnv,
  vethName,
} from '../../../src-main/testbeds/netns/netns-names';
import {
  identityOf,
  isAlive,
  type ProcessIdentity,
} from '../../../src-main/testbeds/netns/netns-processes';
import { writeState } from '../../../src-main/testbeds/netns/netns-state';
import { down } from '../../../src-main/testbeds/netns/netns-testbed-down';
import { up, type NetnsTestbed } from '../../../src-main/testbeds/netns/netns-testbed-up';
import { findTool } from '../../../src-main/testbeds/netns/run-tool';
import { bannerFromRoot, capture, ProbeServer, tcpProbe, udpSend } from './netns-probes';

function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'nft', 'tc', 'sshd', 'ssh-keygen', 'ssh', 'unshare']) {
    try {
      findTool(tool);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}
const skipReason = missingPrerequisite();
if (skipReason !== null) console.log(`netns testbed tests skipped: ${skipReason}`);

/** Everything of ours in the kernel that carries `id`, as the tools list it. */
async function objectsOf(id: string): Promise<string[]> {
  const [ns, links, tables] = await Promise.all([
    capture(findTool('ip'), ['netns', 'list']),
    capture(findTool('ip'), ['-o', 'link', 'show']),
    capture(findTool('nft'), ['list', 'tables']),
  ]);
  return [ns, links, tables]
    .join('\n')
    .split('\n')
    .filter((l) => l.includes(`-${id}`) || l.includes(`_${id}`));
}

describe.skipIf(skipReason !== null)('netns testbed (real namespaces)', () => {
  let tb: NetnsTestbed | null = null;
  const servers: ProbeServer[] = [];
  const extraTestbeds: string[] = [];
  const sshds: ProcessIdentity[] = [];
  let scratch = '';

  const ns = (i: number): string => tb!.hosts[i - 1]!.namespace;
  const ip = (i: number): string => tb!.hosts[i - 1]!.ip;
  const server = (i: number): ProbeServer => servers[i - 1]!;
  const controllers: KernelFaultController[] = [];
  const controller = (): KernelFaultController => {
    const kf = new KernelFaultController({
      nftTable: tb!.nftTable,
      nodes: new Map<NodeId, NodeAddress>(
        tb!.hosts.map((h) => [h.name, { ip: h.ip, namespace: h.namespace }]),
      ),
      netem: tb!.netem,
    });
    controllers.push(kf);
    return kf;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'fl-netns-it-'));
    tb = await up({ nodes: 3, log: (l) => console.log(l) });
    console.log(
      `up ${tb.id}: ${tb.timings.map((t) => `${t.step} ${t.duration_ms.toFixed(1)} ms`).join(', ')}`,
    );
    for (const h of tb.hosts) sshds.push(identityOf(h.sshdPid)!);
    for (const h of tb.hosts) servers.push(await ProbeServer.start(h.namespace, h.ip, h.name));
  }, 60_000);

  afterAll(async () => {
    for (const kf of controllers) kf.close();
    await Promise.all(servers.map((s) => s.stop()));
    if (tb !== null) await down(tb.id);
    for (const id of extraTestbeds) await down(id);
    await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  it('every namespace reaches every other over the bridge', async () => {
    const pairs = [1, 2, 3].flatMap((a) =>
      [1, 2, 3].filter((b) => b !== a).map((b) => [a, b] as const),
    );
    const answers = await Promise.all(pairs.map(([a, b]) => tcpProbe(ns(a), ip(b))));
    expect(answers).toEqual(pairs.map(([, b]) => `ok hi from n${b}`));
  });

  it('each node runs its own sshd: banner on ip:22, its own pinned host key, key login, own hostname', async () => {
    const keys = new Set(tb!.hosts.map((h) => h.hostPublicKey));
    expect(keys.size).toBe(3);
    for (const h of tb!.hosts) {
      expect(await bannerFromRoot(h.ip)).toMatch(/^SSH-2\.0-OpenSSH/);
      const knownHosts = join(scratch, `known_hosts_${h.name}`);
      await writeFile(knownHosts, `${h.ip} ${h.hostPublicKey}\n`);
      // StrictHostKeyChecking=yes with only the pinned key: the login fails if sshd presents another.
      const out = await capture('ssh', [
        '-i',
        h.identityFile,
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'ConnectTimeout=5',
        `${h.user}@${h.ip}`,
        'hostname',
      ]);
      expect(out.trim()).toBe(h.name);
      expect(isAlive(identityOf(h.sshdPid)!)).toBe(true);
    }
  });

  it('partition {n1} | {n2 n3}: n1 cut from n2, n2↔n3 fine, the control path to n1 untouched; heal restores', async () => {
    const kf = controller();
    const r = await kf.apply('p1', {
      type: 'partition',
      shape: 'isolate',
      groups: [['n1'], ['n2', 'n3']],
    });
    console.log(`partition actuation ${r.actuation_ms.toFixed(2)} ms`);
    expect(r.status).toBe('applied');
    expect(r.actuation_ms).toBeLessThan(1_000);
    const rules = await capture(findTool('nft'), ['list', 'table', 'bridge', tb!.nftTable.name]);
    expect(rules).toContain(`${ip(1)} . ${ip(2)}`);
    expect(await tcpProbe(ns(1), ip(2))).toBe('timeout');
    expect(await tcpProbe(ns(3), ip(1))).toBe('timeout');
    expect(await tcpProbe(ns(2), ip(3))).toBe('ok hi from n3');
    expect(await tcpProbe(ns(3), ip(2))).toBe('ok hi from n2');
    expect(await bannerFromRoot(ip(1))).toMatch(/^SSH-2\.0-/);

    const healed = await kf.heal('p1');
    expect(healed.healed).toBe(true);
    expect(await tcpProbe(ns(1), ip(2))).toBe('ok hi from n2');
    expect(await tcpProbe(ns(3), ip(1))).toBe('ok hi from n1');
    expect(kf.activeFaultIds()).toEqual([]);
  });

  it('one-way cut n1→n2 drops n1→n2 datagrams but delivers n2→n1', async () => {
    const kf = controller();
    await kf.apply('c1', { type: 'cut', from: 'n1', to: 'n2' });
    expect(await udpSend(ns(1), ip(2), 'cut-1to2')).toBe('sent');
    expect(await udpSend(ns(2), ip(1), 'cut-2to1')).toBe('sent');
    expect(await server(1).sawDatagram('cut-2to1')).toBe(true);
    expect(await server(2).sawDatagram('cut-1to2')).toBe(false);
    // n3 is not part of the cut.
    expect(await udpSend(ns(1), ip(3), 'cut-1to3')).toBe('sent');
    expect(await server(3).sawDatagram('cut-1to3')).toBe(true);
    await kf.heal('c1');
    expect(await udpSend(ns(1), ip(2), 'healed-1to2')).toBe('sent');
    expect(await server(2).sawDatagram('healed-1to2')).toBe(true);
  });

  it('healing one fault leaves the others in force', async () => {
    const kf = controller();
    await kf.apply('cut32', { type: 'cut', from: 'n3', to: 'n2' });
    await kf.apply('part', { type: 'partition', shape: 'isolate', groups: [['n1'], ['n2', 'n3']] });
    await kf.heal('part');
    expect(await tcpProbe(ns(1), ip(2))).toBe('ok hi from n2');
    expect(await udpSend(ns(3), ip(2), 'still-cut')).toBe('sent');
    expect(await server(2).sawDatagram('still-cut')).toBe(false);
    const all = await kf.apply('h', { type: 'heal-network' });
    expect(all.applied).toEqual(['healed cut32']);
    expect(await udpSend(ns(3), ip(2), 'open-again')).toBe('sent');
    expect(await server(2).sawDatagram('open-again')).toBe(true);
  });

  it('a healed chain lets traffic through at once and is deleted when faults are quiet; healAll leaves no chain', async () => {
    const kf = controller();
    // No table yet when no fault ran before: the first fault's batch creates it.
    const chains = async (): Promise<string[]> =>
      (
        await capture(findTool('nft'), ['list', 'table', 'bridge', tb!.nftTable.name]).catch(
          () => '',
        )
      )
        .split('\n')
        .flatMap((l) => /^\s*chain (\S+) \{/.exec(l)?.[1] ?? []);
    const before = await chains();
    const applied = await kf.apply('q1', { type: 'cut', from: 'n1', to: 'n2' });
    const [chain] = (await chains()).filter((c) => !before.includes(c));
    expect(chain).toBeDefined();
    expect(applied.applied.join(' ')).toContain(chain!);
    const healed = await kf.heal('q1');
    console.log(`heal actuation ${healed.actuation_ms.toFixed(2)} ms`);
    // In force as soon as heal() returns: the chain is still there, but inert.
    expect(await chains()).toContain(chain);
    expect(kf.healedChainCount).toBe(1);
    expect(await udpSend(ns(1), ip(2), 'healed-at-once')).toBe('sent');
    expect(await server(2).sawDatagram('healed-at-once')).toBe(true);
    // After a quiet moment the sweep deletes it.
    for (let i = 0; i < 200 && kf.healedChainCount > 0; i++) await sleep(20);
    expect(kf.healedChainCount).toBe(0);
    expect(await chains()).not.toContain(chain);
    // healAll deletes healed chains at once, without waiting for a quiet moment.
    await kf.apply('q2', { type: 'cut', from: 'n2', to: 'n3' });
    await kf.heal('q2');
    await kf.apply('q3', { type: 'cut', from: 'n3', to: 'n1' });
    await kf.healAll();
    expect(kf.healedChainCount).toBe(0);
    // (Chains of earlier tests' controllers may be swept meanwhile: compare ours only.)
    expect((await chains()).filter((c) => !before.includes(c))).toEqual([]);
  });

  it('bandwidth: tbf on n1 toward n2 only, visible in tc and slowing a bulk transfer; heal removes it', async () => {
    const kf = controller();
    const r = await kf.apply('bw', {
      type: 'degrade',
      links: [['n1', 'n2']],
      profile: { rate_kbit: 8_000 },
    });
    expect(r.status).toBe('applied');
    const qdiscs = await capture(findTool('tc'), ['-n', ns(1), 'qdisc', 'show', 'dev', 'eth0']);
    expect(qdiscs).toMatch(/qdisc tbf \S+ parent fa00:\S+ rate 8Mbit/);
    // 1 MB at 8 Mbit/s takes ~1 s; unshaped it takes milliseconds. Measured inside n2, which
    // receives from n1 (shaped) — and the control path to n1 stays unshaped.
    const seconds = async (from: number): Promise<number> => Number(await runBulk(ns(from), ip(2)));
    const shaped = await seconds(1);
    const unshaped = await seconds(3);
    console.log(
      `1 MB n1→n2 shaped ${shaped.toFixed(2)} s, n3→n2 unshaped ${unshaped.toFixed(2)} s`,
    );
    expect(shaped).toBeGreaterThan(0.6);
    expect(unshaped).toBeLessThan(0.5);
    expect(await bannerFromRoot(ip(1))).toMatch(/^SSH-2\.0-/);
    // A second shaping fault on the same node; healing the first leaves the second.
    await kf.apply('bw2', {
      type: 'degrade',
      links: [['n1', 'n3']],
      profile: { rate_kbit: 4_000 },
    });
    await kf.heal('bw');
    const between = await capture(findTool('tc'), ['-n', ns(1), 'qdisc', 'show', 'dev', 'eth0']);
    expect(between).not.toContain('rate 8Mbit');
    expect(between).toContain('rate 4Mbit');
    await kf.heal('bw2');
    const after = await capture(findTool('tc'), ['-n', ns(1), 'qdisc', 'show', 'dev', 'eth0']);
    expect(after).not.toMatch(/tbf|htb/);
  });

  it('delay/loss without netem come back as an agent fallback; the rate part still goes to tbf', async () => {
    const kf = controller();
    const r = await kf.apply('d1', {
      type: 'degrade',
      links: [['n2', 'n3']],
      profile: { delay_ms: 20, loss: 0.1, rate_kbit: 4_000 },
    });
    if (tb!.netem.available) {
      expect(r.status).toBe('applied');
      expect(
        await capture(findTool('tc'), ['-n', ns(2), 'qdisc', 'show', 'dev', 'eth0']),
      ).toContain('netem');
    } else {
      expect(r.status).toBe('partial-agent-fallback');
      expect(r.fallback?.profile).toEqual({ delay_ms: 20, loss: 0.1 });
      expect(r.fallback?.links).toEqual([['n2', 'n3']]);
      expect(r.fallback?.reason).toMatch(/netem/);
      expect(
        await capture(findTool('tc'), ['-n', ns(2), 'qdisc', 'show', 'dev', 'eth0']),
      ).toContain('tbf');
      const only = await kf.apply('d2', { type: 'degrade', profile: { delay_ms: 5 } });
      expect(only.status).toBe('needs-agent-fallback');
      expect(only.fallback?.links).toBeNull();
    }
    await kf.healAll();
  });

  it('a subnet already in use is refused before anything is created', async () => {
    await expect(up({ nodes: 1, subnet: tb!.subnet })).rejects.toThrow(/already in use.*--subnet/);
  });

  it('a crashed run (state file with a dead owner, objects left, a process in its namespace) is removed by the next up', async () => {
    const crashed = 'crash' + String(process.pid % 10);
    const orphan = 'orph' + String(process.pid % 100).padStart(2, '0');
    const ipTool = findTool('ip');
    const run = (args: string[]): Promise<string> => capture(ipTool, args);
    await run(['netns', 'add', namespaceName(crashed, 1)]);
    await run(['link', 'add', bridgeName(crashed), 'type', 'bridge']);
    await run([
      'link',
      'add',
      vethName(crashed, 1),
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      namespaceName(crashed, 1),
    ]);
    await capture(findTool('nft'), ['add', 'table', 'bridge', nftTableName(crashed)]);
    await run(['netns', 'add', namespaceName(orphan, 1)]); // no state file at all
    const sleeper = spawn(ipTool, ['netns', 'exec', namespaceName(crashed, 1), 'sleep', '120'], {
      detached: true,
      stdio: 'ignore',
    });
    sleeper.unref();
    const sleeperId = identityOf(sleeper.pid!)!;
    // The owner: a process that has exited (its PID is dead).
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const runtimeDir = runtimeDirFromEnv();
    await writeState(runtimeDir, {
      version: 1,
      id: crashed,
      createdAt: new Date().toISOString(),
      owner: { pid: dead.pid!, startTime: '1' },
      keepAfterOwnerExit: false,
      subnet: '10.77.250.0/24',
      bridge: bridgeName(crashed),
      namespaces: [namespaceName(crashed, 1)],
      veths: [vethName(crashed, 1)],
      nftTables: [{ family: 'bridge', name: nftTableName(crashed) }],
      filesDir: join(runtimeDir, `netns-${crashed}`),
      sshd: [],
    });
    expect((await objectsOf(crashed)).length).toBeGreaterThanOrEqual(4);

    const next = await up({ nodes: 1 });
    extraTestbeds.push(next.id);
    const removedIds = next.leftovers.removed.map((r) => r.id);
    expect(removedIds).toContain(crashed);
    expect(removedIds).toContain(orphan);
    // The live testbed of this file is not a leftover.
    expect(removedIds).not.toContain(tb!.id);
    expect(next.leftovers.live).toContain(tb!.id);
    expect(await objectsOf(crashed)).toEqual([]);
    expect(await objectsOf(orphan)).toEqual([]);
    expect(isAlive(sleeperId)).toBe(false);
    expect(await tcpProbe(ns(1), ip(2))).toBe('ok hi from n2');
  });

  it('down removes namespaces, links, nft table, sshds and files', async () => {
    const t = tb!;
    // A kernel fault leaves our table behind until down.
    await controller().apply('left', { type: 'cut', from: 'n1', to: 'n3' });
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    const report = await down(t.id);
    tb = null;
    expect(report.namespaces.sort()).toEqual(t.hosts.map((h) => h.namespace).sort());
    expect(report.nftTables).toEqual([`bridge ${t.nftTable.name}`]);
    expect(await objectsOf(t.id)).toEqual([]);
    expect(sshds).toHaveLength(3);
    for (const who of sshds) expect(isAlive(who)).toBe(false);
  });
});

const BULK_RECEIVER = `
const [host] = process.argv.slice(1);
const net = require('node:net');
const srv = net.createServer((c) => {
  const t0 = process.hrtime.bigint(); let n = 0;
  c.on('data', (d) => { n += d.length; });
  c.on('end', () => { console.log(Number(process.hrtime.bigint() - t0) / 1e9); process.exit(0); });
}).listen(7002, host, () => console.log('ready'));
setTimeout(() => process.exit(1), 20000).unref();
`;

const BULK_SENDER = `
const [host] = process.argv.slice(1);
const c = require('node:net').connect(7002, host, () => c.end(Buffer.alloc(1 << 20, 120)));
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

/** Seconds the receiver in n2 saw between accept and the end of 1 MB sent from `fromNs`. */
function runBulk(fromNs: string, toIp: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const toNs = fromNs.replace(/-n\d+$/, '-n2');
    const receiver = spawn(
      findTool('ip'),
      ['netns', 'exec', toNs, process.execPath, '-e', BULK_RECEIVER, toIp],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    receiver.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n') && !out.includes('sent')) {
        out += 'sent';
        execFile(
          findTool('ip'),
          ['netns', 'exec', fromNs, process.execPath, '-e', BULK_SENDER, toIp],
          { timeout: 20_000 },
          (err) => {
            if (err !== null) reject(err);
          },
        );
      }
    });
    receiver.once('exit', (code) => {
      const seconds = out.replace('ready\n', '').replace('sent', '').trim();
      if (code === 0) resolve(seconds);
      else reject(new Error(`bulk receiver in ${toNs} exited ${code}: ${out}`));
    });
  });
}
