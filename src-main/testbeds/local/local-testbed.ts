import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { AgentConfigInput } from '../../../src-node-agent/control/agent-config';
import type { NodeId } from '../../../src-node-agent/core/ids';
import { ensureAgentBundle } from '../agent-bundle';
import type { NodePlan, ProcessState, ProvisionedNode, Testbed, TestbedNotice } from '../testbed';
import { freePort } from './free-port';

interface LocalNode {
  readonly node: ProvisionedNode;
  child: ChildProcess | null;
  state: ProcessState;
  exited: Promise<void> | null;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * FAULTLAB_AGENT_CPU_PROFILE=<dir>: every agent writes a V8 CPU profile there when it exits
 * (a debugging aid for performance work; Node refuses --cpu-prof in NODE_OPTIONS).
 */
function profileArgs(): string[] {
  const dir = process.env['FAULTLAB_AGENT_CPU_PROFILE'];
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/**
 * The embedded default testbed: every agent is a child process on this machine, replicas
 * listen on loopback ports. No root, no SSH. Work dirs (stable storage) and control sockets
 * live in a private temp dir (short paths: Unix socket paths are limited to ~107 bytes).
 */
export class LocalTestbed implements Testbed {
  readonly kind = 'local';
  private baseDir: string | null = null;
  private bundlePath: string | null = null;
  private readonly nodes = new Map<NodeId, LocalNode>();
  private readonly listeners: ((notice: TestbedNotice) => void)[] = [];

  constructor(private readonly host = '127.0.0.1') {}

  async provision(runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]> {
    this.baseDir = await mkdtemp(join(tmpdir(), `fl-${runId.slice(0, 8)}-`));
    await chmod(this.baseDir, 0o700);
    const out: ProvisionedNode[] = [];
    for (const p of plan) {
      const workDir = join(this.baseDir, p.id);
      await mkdir(workDir, { mode: 0o700 });
      const node: ProvisionedNode = {
        id: p.id,
        role: p.role,
        host: this.host,
        port: p.role === 'replica' ? await freePort(this.host) : null,
        workDir,
        controlSocket: join(workDir, 'control.sock'),
      };
      this.nodes.set(p.id, { node, child: null, state: 'not-started', exited: null });
      out.push(node);
    }
    return out;
  }

  async deploy(): Promise<{ agentSha256: string }> {
    const bundle = await ensureAgentBundle();
    this.bundlePath = bundle.path;
    return { agentSha256: bundle.sha256 };
  }

  async writeConfig(id: NodeId, config: AgentConfigInput): Promise<void> {
    const n = this.require(id);
    await writeFile(join(n.node.workDir, 'agent.json'), JSON.stringify(config, null, 2), {
      mode: 0o600,
    });
  }

  async start(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state === 'running' || n.state === 'paused') return;
    if (this.bundlePath === null)
      throw new Error('local testbed: deploy() must run before start()');
    const log = openSync(join(n.node.workDir, 'stdout.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        [...profileArgs(), this.bundlePath, '--config', join(n.node.workDir, 'agent.json')],
        {
          cwd: n.node.workDir,
          stdio: ['ignore', log, log],
        },
      );
    } finally {
      closeSync(log);
    }
    n.child = child;
    n.state = 'running';
    n.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (n.child === child) {
          n.state = 'exited';
          n.child = null;
        }
        this.notify({ kind: 'exited', node: id, code, signal });
        resolve();
      });
    });
    child.once('error', (err) =>
      this.notify({ kind: 'log', node: id, text: `spawn failed: ${err.message}` }),
    );
  }

  async kill(id: NodeId): Promise<void> {
    await this.signalAndWait(this.require(id), 'SIGKILL');
  }

  async pause(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state !== 'running' || n.child?.pid === undefined) return;
    process.kill(n.child.pid, 'SIGSTOP');
    n.state = 'paused';
  }

  async resume(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state !== 'paused' || n.child?.pid === undefined) return;
    process.kill(n.child.pid, 'SIGCONT');
    n.state = 'running';
  }

  async restart(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state === 'running' || n.state === 'paused') await this.signalAndWait(n, 'SIGKILL');
    await this.start(id);
  }

  state(id: NodeId): ProcessState {
    return this.require(id).state;
  }

  pid(id: NodeId): number | null {
    return this.require(id).child?.pid ?? null;
  }

  async connectControl(id: NodeId): Promise<Duplex> {
    const n = this.require(id);
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    let lastError = 'not tried';
    while (Date.now() < deadline) {
      if (n.state === 'exited')
        throw new Error(`agent ${id} is not running (it exited); see ${n.node.workDir}/stdout.log`);
      const exists = await stat(n.node.controlSocket).then(
        () => true,
        () => false,
      );
      if (exists) {
        try {
          return await new Promise<Duplex>((resolve, reject) => {
            const socket = createConnection(n.node.controlSocket);
            socket.once('connect', () => {
              socket.removeListener('error', reject);
              resolve(socket);
            });
            socket.once('error', reject);
          });
        } catch (err) {
          lastError = (err as Error).message;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `could not reach agent ${id}'s control socket ${n.node.controlSocket} within ${CONNECT_TIMEOUT_MS} ms ` +
        `(${lastError}); see ${n.node.workDir}/stdout.log and agent.log`,
    );
  }

  onNotice(listener: (notice: TestbedNotice) => void): void {
    this.listeners.push(listener);
  }

  async teardown(options: { keepWorkDirs?: boolean; grace_ms?: number } = {}): Promise<void> {
    const grace_ms = options.grace_ms ?? 2_000;
    await Promise.all(
      Array.from(this.nodes.values()).map(async (n) => {
        const pid = n.child?.pid;
        if (pid === undefined || n.exited === null) return;
        if (n.state === 'paused') process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (n.child?.pid === pid) process.kill(pid, 'SIGKILL');
        }, grace_ms);
        await n.exited;
        clearTimeout(timer);
      }),
    );
    if (this.baseDir !== null && options.keepWorkDirs !== true) {
      await rm(this.baseDir, { recursive: true, force: true });
    }
  }

  /** Where this testbed keeps its work dirs (for tests and for "keep work dirs"). */
  get directory(): string | null {
    return this.baseDir;
  }

  private async signalAndWait(n: LocalNode, signal: NodeJS.Signals): Promise<void> {
    const pid = n.child?.pid;
    if (pid === undefined || n.exited === null) return;
    if (n.state === 'paused' && signal !== 'SIGKILL') process.kill(pid, 'SIGCONT');
    process.kill(pid, signal);
    await n.exited;
  }

  private notify(notice: TestbedNotice): void {
    for (const l of this.listeners) l(notice);
  }

  private require(id: NodeId): LocalNode {
    const n = this.nodes.get(id);
    if (n === undefined) {
      throw new Error(
        `local testbed has no node "${id}" (nodes: ${Array.from(this.nodes.keys()).join(', ')})`,
      );
    }
    return n;
  }
}
