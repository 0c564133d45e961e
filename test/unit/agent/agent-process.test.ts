import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfigInput } from '../../../src-node-agent/control/agent-config';
import type { AgentEvent } from '../../../src-node-agent/control/frames';
import { TestControlClient } from './support/control-client';
import { freePorts, waitFor } from './support/net';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

interface Agent {
  readonly id: string;
  readonly workDir: string;
  readonly child: ChildProcess;
  readonly output: string[];
  exit: { code: number | null; signal: string | null } | null;
  control: TestControlClient | null;
}

let dir: string;
let bundle: string;
const agents: Agent[] = [];

beforeAll(async () => {
  // Short path: Unix socket paths are limited to 107 bytes.
  dir = await mkdtemp(join(tmpdir(), 'fl-e2e-'));
  bundle = join(dir, 'faultlab-agent.cjs');
  // The real build script, into the temp dir (never over out/, which others may be using).
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

async function startAgent(config: AgentConfigInput): Promise<Agent> {
  await mkdir(config.workDir, { recursive: true, mode: 0o700 });
  const configPath = join(config.workDir, 'agent.json');
  await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [bundle, '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const agent: Agent = {
    id: config.node,
    workDir: config.workDir,
    child,
    output: [],
    exit: null,
    control: null,
  };
  child.stdout?.on('data', (d: Buffer) => agent.output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => agent.output.push(d.toString()));
  child.on('exit', (code, signal) => {
    agent.exit = { code, signal };
  });
  agents.push(agent);
  return agent;
}

async function connectControl(a: Agent, socketPath: string): Promise<TestControlClient> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (a.exit !== null) {
      throw new Error(`agent ${a.id} exited (${JSON.stringify(a.exit)}): ${a.output.join('')}`);
    }
    try {
      await stat(socketPath);
      const c = await TestControlClient.connect(socketPath);
      a.control = c;
      c.send({ t: 'hello', incarnation: 0, lastSeq: 0 });
      return c;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`agent ${a.id}: no control socket: ${String(err)} ${a.output.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('agent processes end to end', () => {
  it('3 Paxos replicas and a workload agent: history, agreement, clean shutdown', async () => {
    const ports = await freePorts(3);
    const servers = ports.map((port, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', port }));
    const secretHex = randomBytes(32).toString('hex');
    const common = {
      version: 1 as const,
      runId: 'e2e-run',
      stack: 'paxos',
      params: {},
      servers,
      secretHex,
      lease_ms: 10_000,
      durability: 'fsync' as const,
      telemetryInterval_ms: 200,
    };
    const specs = [
      ...servers.map((s) => ({ node: s.id, role: 'replica' as const })),
      { node: 'w1', role: 'workload' as const },
    ];
    const started = await Promise.all(
      specs.map((s) =>
        startAgent({
          ...common,
          ...s,
          workDir: join(dir, s.node),
          controlSocket: join(dir, s.node, 'c.sock'),
        }),
      ),
    );
    await Promise.all(started.map((a) => connectControl(a, join(a.workDir, 'c.sock'))));
    for (const a of started) {
      await waitFor(`${a.id} started`, () => events(a).some((e) => e.kind === 'started'));
      const welcome = a.control?.ofType('welcome')[0];
      expect(welcome).toMatchObject({ node: a.id, incarnation: 1, pid: a.child.pid });
    }
    const w1 = started[3] as Agent;
    const replicas = started.slice(0, 3);

    const run_ms = 2_000;
    w1.control?.send({
      t: 'start-workload',
      spec: { clients: 4, mode: 'closed', keys: 10 } as never,
    });
    await new Promise((r) => setTimeout(r, run_ms));
    w1.control?.send({ t: 'stop-workload', drain_ms: 1_000 });
    await waitFor(
      'workload-stopped',
      () => events(w1).some((e) => e.kind === 'workload-stopped'),
      5_000,
    );

    const history = events(w1).flatMap((e) => (e.kind === 'history' ? [e.entry] : []));
    const oks = history.filter((h) => h.type === 'ok');
    const invokes = history.filter((h) => h.type === 'invoke');
    const unknown = history.filter((h) => h.type === 'unknown');
    console.log(
      `e2e: ${oks.length} ok operations in ${run_ms} ms = ${Math.round(oks.length / (run_ms / 1000))} ops/s ` +
        `(4 closed-loop clients, 3 replicas, fsync), ${unknown.length} unknown`,
    );
    expect(oks.length).toBeGreaterThan(50);
    expect(invokes.length).toBe(oks.length + unknown.length);
    expect(new Set(history.map((h) => h.process)).size).toBe(4);
    const metrics = events(w1).filter((e) => e.kind === 'metrics');
    expect(metrics.some((m) => m.kind === 'metrics' && m.ops > 0 && m.latency_us !== null)).toBe(
      true,
    );

    // Agreement: every replica executed the same command in every slot they share.
    await new Promise((r) => setTimeout(r, 300)); // followers learn the last commits
    const executed = replicas.map((a) => {
      const bySlot = new Map<number, string>();
      for (const e of events(a)) {
        if (e.kind === 'protocol' && e.event.kind === 'executed') {
          bySlot.set(e.event.slot as number, e.event.digest as string);
        }
      }
      return bySlot;
    });
    let common_slots = 0;
    for (const [slot, digest] of executed[0] as Map<number, string>) {
      for (const other of executed.slice(1)) {
        const d = other.get(slot);
        if (d !== undefined) {
          expect(d, `slot ${slot}`).toBe(digest);
          common_slots++;
        }
      }
    }
    expect(common_slots).toBeGreaterThan(20);
    console.log(`e2e: ${executed.map((m) => m.size).join('/')} slots executed by n1/n2/n3`);

    for (const a of started) a.control?.send({ t: 'shutdown' });
    await waitFor('every agent to exit', () => started.every((a) => a.exit !== null), 10_000);
    for (const a of started) {
      expect(a.exit, `${a.id}: ${a.output.join('')}`).toEqual({ code: 0, signal: null });
      const log = await readFile(join(a.workDir, 'agent.log'), 'utf8');
      expect(log).toMatch(/started: control socket/);
      expect(log).toMatch(/stopped \(exit 0\)/);
      expect((await readFile(join(a.workDir, 'incarnation'), 'utf8')).trim()).toBe('1');
    }
    for (const a of replicas) {
      expect((await stat(join(a.workDir, 'state.log'))).size).toBeGreaterThan(0);
    }

    // A restart on the same work dir recovers from stable storage as a new incarnation;
    // SIGTERM is a graceful stop.
    const n1 = replicas[0] as Agent;
    const again = await startAgent(
      JSON.parse(await readFile(join(n1.workDir, 'agent.json'), 'utf8')) as AgentConfigInput,
    );
    await connectControl(again, join(again.workDir, 'c.sock'));
    await waitFor('the restart', () => events(again).some((e) => e.kind === 'started'));
    expect(again.control?.ofType('welcome')[0]?.incarnation).toBe(2);
    expect(events(again).find((e) => e.kind === 'started')).toEqual({
      kind: 'started',
      role: 'replica',
      recovered: true,
      listen: `127.0.0.1:${servers[0]?.port}`,
    });
    expect(events(again).some((e) => e.kind === 'protocol' && e.event.kind === 'recovered')).toBe(
      true,
    );
    again.child.kill('SIGTERM');
    await waitFor('the SIGTERM exit', () => again.exit !== null, 10_000);
    expect(again.exit).toEqual({ code: 0, signal: null });
    expect(await readFile(join(again.workDir, 'agent.log'), 'utf8')).toMatch(
      /shutting down: received SIGTERM/,
    );
  }, 60_000);

  it('a bad agent.json exits 2 naming the file and the field', async () => {
    const workDir = join(dir, 'bad');
    const a = await startAgent({
      version: 1,
      runId: 'r',
      node: 'n1',
      role: 'replica',
      stack: 'paxos',
      params: {},
      servers: [{ id: 'n1', host: '127.0.0.1', port: 1 }],
      secretHex: 'not-hex',
      workDir,
      controlSocket: join(workDir, 'c.sock'),
      lease_ms: 1000,
      durability: 'memory',
    });
    await waitFor('the exit', () => a.exit !== null, 10_000);
    expect(a.exit).toEqual({ code: 2, signal: null });
    expect(a.output.join('')).toContain(`${join(workDir, 'agent.json')}: field "secretHex"`);
  });
});
