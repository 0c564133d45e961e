/**
 * Message tracing on real agent processes (the bundle the testbeds deploy, built into a temp
 * dir): 3 Paxos replicas and a workload agent on loopback. With `traceMessages` set, every
 * receipt and every link-filter drop pairs with exactly one send by mid, receipts come in
 * send order on each link; without it, no message event appears. Bounded in time; agents
 * are killed by PID if they outlive the test; the temp dir is removed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfigInput } from '../../src-node-agent/control/agent-config';
import type { AgentEvent } from '../../src-node-agent/control/frames';
import type { LinkRule } from '../../src-node-agent/control/link-rules';
import { TestControlClient } from '../unit/agent/support/control-client';
import { freePorts, waitFor } from '../unit/agent/support/net';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

type MessageEvent = Extract<AgentEvent, { kind: 'message' }> & { node: string };

interface Agent {
  readonly id: string;
  readonly child: ChildProcess;
  readonly output: string[];
  exit: { code: number | null; signal: string | null } | null;
  control: TestControlClient | null;
}

let dir = '';
let bundle = '';
const agents: Agent[] = [];

beforeAll(async () => {
  // Short path: Unix socket paths are limited to 107 bytes.
  dir = await mkdtemp(join(tmpdir(), 'fl-trace-'));
  bundle = join(dir, 'faultlab-agent.cjs');
  await run(process.execPath, [join(root, 'scripts', 'build-agent.mjs'), '--outfile', bundle], {
    cwd: root,
  });
}, 60_000);

afterAll(async () => {
  for (const a of agents) {
    a.control?.close();
    // Only our own children, by PID, and only if still running.
    if (a.exit === null && a.child.pid !== undefined) a.child.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

function events(a: Agent): AgentEvent[] {
  return a.control?.events().map((f) => f.e) ?? [];
}

function messageEvents(cluster: Agent[]): MessageEvent[] {
  return cluster.flatMap((a) =>
    events(a).flatMap((e) => (e.kind === 'message' ? [{ ...e, node: a.id }] : [])),
  );
}

async function startAgent(config: AgentConfigInput): Promise<Agent> {
  await mkdir(config.workDir, { recursive: true, mode: 0o700 });
  const configPath = join(config.workDir, 'agent.json');
  await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [bundle, '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const agent: Agent = { id: config.node, child, output: [], exit: null, control: null };
  child.stdout?.on('data', (d: Buffer) => agent.output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => agent.output.push(d.toString()));
  child.on('exit', (code, signal) => {
    agent.exit = { code, signal };
  });
  agents.push(agent);
  const socketPath = config.controlSocket;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (agent.exit !== null) {
      throw new Error(
        `agent ${agent.id} exited (${JSON.stringify(agent.exit)}): ${agent.output.join('')}`,
      );
    }
    try {
      await stat(socketPath);
      agent.control = await TestControlClient.connect(socketPath);
      agent.control.send({ t: 'hello', incarnation: 0, lastSeq: 0 });
      return agent;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`agent ${agent.id}: no control socket: ${String(err)} ${agent.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** 3 Paxos replicas + w1, started and with a workload running for `run_ms`. */
async function startCluster(
  name: string,
  traceMessages: AgentConfigInput['traceMessages'],
): Promise<Agent[]> {
  const ports = await freePorts(3);
  const servers = ports.map((port, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', port }));
  const common = {
    version: 1 as const,
    runId: `trace-${name}`,
    stack: 'paxos',
    params: {},
    servers,
    secretHex: randomBytes(32).toString('hex'),
    lease_ms: 10_000,
    durability: 'memory' as const,
    telemetryInterval_ms: 500,
    ...(traceMessages === undefined ? {} : { traceMessages }),
  };
  const cluster = await Promise.all(
    [...servers.map((s) => s.id), 'w1'].map((node) =>
      startAgent({
        ...common,
        node,
        role: node === 'w1' ? 'workload' : 'replica',
        workDir: join(dir, name, node),
        controlSocket: join(dir, name, node, 'c.sock'),
      }),
    ),
  );
  for (const a of cluster) {
    await waitFor(`${a.id} started`, () => events(a).some((e) => e.kind === 'started'));
  }
  return cluster;
}

async function runWorkload(w1: Agent, run_ms: number): Promise<void> {
  // Two clients that think 10 ms between operations: a diagram-sized run.
  w1.control?.send({
    t: 'start-workload',
    spec: { clients: 2, mode: 'closed', keys: 10, thinkTime_ms: 10 } as never,
  });
  await new Promise((r) => setTimeout(r, run_ms));
  w1.control?.send({ t: 'stop-workload', drain_ms: 500 });
  await waitFor('workload-stopped', () => events(w1).some((e) => e.kind === 'workload-stopped'));
}

function setLinks(a: Agent, faultId: string, rules: LinkRule[]): void {
  a.control?.send({ t: 'set-links', faultId, rules });
}

async function shutdown(cluster: Agent[]): Promise<void> {
  for (const a of cluster) a.control?.send({ t: 'shutdown' });
  await waitFor('every agent to exit', () => cluster.every((a) => a.exit !== null), 10_000);
  for (const a of cluster)
    expect(a.exit, `${a.id}: ${a.output.join('')}`).toEqual({
      code: 0,
      signal: null,
    });
}

/**
 * Receipts and drops whose send is not (yet) among the collected events, and sends with no
 * receipt or drop (yet). Both are empty once a silenced cluster is quiet.
 */
function loose(all: MessageEvent[]): { unpaired: number; fateless: number } {
  const sent = new Set(all.filter((e) => e.dir === 'send').map((e) => e.mid));
  const fated = new Set(all.filter((e) => e.dir !== 'send').map((e) => e.mid));
  return {
    unpaired: all.filter((e) => e.dir !== 'send' && !sent.has(e.mid)).length,
    fateless: [...sent].filter((mid) => !fated.has(mid)).length,
  };
}

describe('message tracing on agent processes', () => {
  it(
    'every receipt and drop pairs with exactly one send, in order per link',
    { timeout: 60_000 },
    async () => {
      const cluster = await startCluster('on', { maxPerSecond: 50_000 });
      const [, , n3, w1] = cluster as [Agent, Agent, Agent, Agent];
      // A lossy link into n3 from n1, so the trace has receiver-side drops.
      setLinks(n3, 'loss-in', [{ peer: 'n1', direction: 'in', loss: 0.3 }]);
      await runWorkload(w1, 1_500);
      // Silence every link (out-cuts everywhere), so the trace stops growing and every
      // message in flight has arrived or been dropped before we compare.
      for (const a of cluster) {
        const peers = ['n1', 'n2', 'n3', 'w1'].filter((p) => p !== a.id);
        setLinks(
          a,
          'silence',
          peers.map((peer) => ({ peer, direction: 'out', cut: true })),
        );
      }
      await new Promise((r) => setTimeout(r, 300));
      // Everything sent has arrived or been dropped by now; the trace must say so.
      await waitFor('every receipt to find its send and every send its fate', () => {
        const l = loose(messageEvents(cluster));
        return l.unpaired === 0 && l.fateless === 0;
      });

      const all = messageEvents(cluster);
      expect(
        cluster.flatMap((a) => events(a)).filter((e) => e.kind === 'message-trace-dropped'),
      ).toEqual([]);
      const sends = new Map<string, MessageEvent>();
      for (const e of all.filter((x) => x.dir === 'send')) {
        expect(sends.has(e.mid), `mid ${e.mid} sent once`).toBe(false);
        expect(e.mid.startsWith(`${e.node}.1.`), e.mid).toBe(true);
        sends.set(e.mid, e);
      }
      // Exactly one receipt or receiver-side drop per send (no duplication fault here).
      const fates = new Map<string, number>();
      for (const e of all.filter((x) => x.dir !== 'send')) {
        const s = sends.get(e.mid) as MessageEvent;
        expect(e.type, e.mid).toBe(s.type);
        expect(e.bytes, e.mid).toBe(s.bytes);
        if (e.node === s.node) {
          expect(e.dir).toBe('drop'); // the sender's own out-cut
          expect(e.peer).toBe(s.peer);
        } else {
          expect([e.node, e.peer], e.mid).toEqual([s.peer, s.node]);
          fates.set(e.mid, (fates.get(e.mid) ?? 0) + 1);
        }
      }
      expect([...fates.values()].every((n) => n === 1)).toBe(true);
      const outDrops = all.filter((e) => e.dir === 'drop' && e.node === sends.get(e.mid)?.node);
      // Each send has exactly one fate: a receipt, a drop by the receiver, or one by the sender.
      expect(fates.size + outDrops.length).toBe(sends.size);
      expect(new Set(outDrops.map((e) => e.mid)).size).toBe(outDrops.length);

      // Receipts in send order on every directed link (TCP keeps order; loss only removes).
      const counter = (mid: string): number => Number(mid.split('.').at(-1));
      const links = new Map<string, number[]>();
      for (const e of all.filter((x) => x.dir === 'recv')) {
        const link = `${e.peer}->${e.node}`;
        links.set(link, [...(links.get(link) ?? []), counter(e.mid)]);
      }
      for (const [link, c] of links) expect(c, link).toEqual([...c].sort((a, b) => a - b));
      // Replica↔replica and client↔replica both traced.
      expect(links.has('w1->n1') || links.has('w1->n2') || links.has('w1->n3')).toBe(true);
      expect([...links.keys()].some((l) => l.endsWith('->w1'))).toBe(true);
      expect([...links.keys()].filter((l) => !l.includes('w1')).length).toBeGreaterThanOrEqual(2);
      const types = new Set(all.map((e) => e.type));
      expect(types.has('request') && types.has('reply-ok') && types.has('accept')).toBe(true);
      const inDrops = all.filter(
        (e) => e.dir === 'drop' && e.node === 'n3' && sends.get(e.mid)?.node === 'n1',
      );
      expect(inDrops.length).toBeGreaterThan(0);
      expect(outDrops.length).toBeGreaterThan(0);
      console.log(
        `trace: ${sends.size} sends, ${all.filter((e) => e.dir === 'recv').length} receipts, ` +
          `${inDrops.length} dropped by n3's lossy in-link, ${outDrops.length} by the final ` +
          `out-cuts; types ${[...types].sort().join(', ')}; ${links.size} links`,
      );
      await shutdown(cluster);
    },
  );

  it('without traceMessages no message event appears', { timeout: 60_000 }, async () => {
    const cluster = await startCluster('off', undefined);
    const w1 = cluster[3] as Agent;
    await runWorkload(w1, 1_000);
    const oks = events(w1).filter((e) => e.kind === 'history' && e.entry.type === 'ok');
    expect(oks.length).toBeGreaterThan(20);
    const traced = cluster
      .flatMap((a) => events(a))
      .filter((e) => e.kind === 'message' || e.kind === 'message-trace-dropped');
    expect(traced).toEqual([]);
    await shutdown(cluster);
  });
});
