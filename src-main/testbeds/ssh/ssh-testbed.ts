import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentConfigInput } from '../../../src-node-agent/control/agent-config';
import type { NodeId } from '../../../src-node-agent/core/ids';
import type { KnownHosts } from '../../ssh/known-hosts';
import type { AskPassphrase } from '../../ssh/ssh-auth';
import type { ReconnectPolicy, SshConnection, SshStateChange } from '../../ssh/ssh-connection';
import { shellQuote } from '../../ssh/ssh-exec';
import type { SshTarget } from '../../ssh/ssh-target';
import { ensureAgentBundle } from '../agent-bundle';
import type {
  KernelFaults,
  NodePlan,
  ProcessState,
  ProvisionedNode,
  Testbed,
  TestbedNotice,
} from '../testbed';
import {
  agentFiles,
  freePortsCommand,
  MIN_NODE_MAJOR,
  NODE_PROBE_COMMAND,
  parseExitStatus,
  parseNodeProbe,
  parsePids,
  parsePorts,
  remotePath,
  signalAgentCommand,
  startAgentCommand,
  watchAgentCommand,
  type AgentFiles,
  type NodeProbe,
} from './remote-commands';
import { RemoteShell } from './remote-shell';
import { SshHosts, type HostKeyAcceptance } from './ssh-hosts';

export interface SshTestbedOptions {
  readonly targets: readonly SshTarget[];
  readonly knownHosts: KnownHosts;
  readonly acceptance?: HostKeyAcceptance;
  readonly askPassphrase?: AskPassphrase;
  readonly agentSocket?: string | null;
  readonly reconnect?: ReconnectPolicy | false;
  readonly keepaliveIntervalMs?: number;
  /** Deploy progress and link changes, one line each ("n2: agent up to date …"). */
  readonly log?: (line: string) => void;
  /** 'ssh' by default; the netns testbed says 'netns'. */
  readonly kind?: string;
  readonly kernelFaults?: KernelFaults | null;
  /** Where FaultLab keeps its files on a host without an inventory workDir. */
  readonly defaultRoot?: string;
  /** The agent bundle; default: out/agent/faultlab-agent.cjs, rebuilt when stale. */
  readonly bundle?: () => Promise<{ path: string; sha256: string }>;
}

/** Split of the last deploy for benchmarks and the user's log. */
export interface SshTestbedTimings {
  connect_ms: number;
  provision_ms: number;
  upload_ms: number;
  start_ms: number;
}

interface HostState {
  readonly target: SshTarget;
  readonly probe: NodeProbe;
  /** FaultLab's directory on the host: the bundle lives here across runs. */
  readonly root: string;
  readonly bundlePath: string;
}

interface RemoteNode {
  readonly node: ProvisionedNode;
  readonly host: HostState;
  readonly files: AgentFiles;
  state: ProcessState;
  pid: number | null;
  wrapperPid: number | null;
  /** Bumped at every start: a watcher of an older start reports nothing. */
  generation: number;
  exitReported: boolean;
  watching: boolean;
}

const CONTROL_CONNECT_TIMEOUT_MS = 15_000;
const EXEC_TIMEOUT_MS = 20_000;
/** A watcher lives as long as the agent; its exec bound is a backstop, not a schedule. */
const WATCHER_TIMEOUT_MS = 7 * 24 * 3600_000;
/** Unix socket paths longer than this fail to bind (sun_path is 108 bytes on Linux). */
const MAX_SOCKET_PATH = 100;
const MAX_EARLY_NOTICES = 200;

/**
 * Agents on SSH hosts (an inventory, or the namespaces of a netns testbed): Node checked on
 * every host, the bundle uploaded by SFTP only when its hash differs, agents started detached
 * (they outlive a dropped SSH link and keep buffering), control sockets reached by stream-local
 * forwarding, process faults by the recorded PID, teardown that leaves nothing behind.
 *
 * Nodes are placed round-robin over the hosts (n1 on the first, n2 on the second, …); with as
 * many hosts as nodes, each node has a host of its own.
 */
export class SshTestbed implements Testbed {
  readonly kind: string;
  readonly kernelFaults: KernelFaults | null;
  /** Links carrying the agents' control streams (heavy: every event of the run). */
  private hosts: SshHosts | null = null;
  /**
   * Separate links for commands (start, kill, pause, watchers): on the stream links a kill
   * would queue behind megabytes of events (one TCP connection, one SSH window), and a crash
   * must take effect when the script says, not a second later.
   */
  private ops: SshHosts | null = null;
  private readonly hostStates = new Map<string, HostState>();
  private readonly shells = new Map<string, Promise<RemoteShell>>();
  private readonly nodes = new Map<NodeId, RemoteNode>();
  private readonly listeners: ((notice: TestbedNotice) => void)[] = [];
  private readonly early: TestbedNotice[] = [];
  private runDirs: { host: HostState; dir: string }[] = [];
  private bundle: { path: string; sha256: string } | null = null;
  private tornDown = false;
  readonly timings: SshTestbedTimings = {
    connect_ms: 0,
    provision_ms: 0,
    upload_ms: 0,
    start_ms: 0,
  };
  /** What the last deploy did per host, for tests and the UI. */
  readonly deployReport: { host: string; status: 'uploaded' | 'skipped'; message: string }[] = [];

  constructor(private readonly options: SshTestbedOptions) {
    if (options.targets.length === 0) {
      throw new Error('SSH testbed: the inventory has no hosts; add at least one under hosts:');
    }
    this.kind = options.kind ?? 'ssh';
    this.kernelFaults = options.kernelFaults ?? null;
  }

  /** Connect to every host in parallel and check Node on each (idempotent). */
  async connect(): Promise<void> {
    if (this.hosts !== null) return;
    const t0 = performance.now();
    const connectOptions = (role: 'streams' | 'commands') => ({
      knownHosts: this.options.knownHosts,
      acceptance: this.options.acceptance,
      askPassphrase: this.options.askPassphrase,
      agentSocket: this.options.agentSocket,
      reconnect: this.options.reconnect,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 2_000,
      onWarning: (m: string) => this.log(m),
      onStateChange: (name: string, change: SshStateChange) =>
        this.onLinkChange(name, role, change),
    });
    // The first set asks about unknown keys; the second finds them remembered or pinned.
    const hosts = await SshHosts.connect(this.options.targets, connectOptions('streams'));
    let ops: SshHosts | null = null;
    try {
      ops = await SshHosts.connect(this.options.targets, connectOptions('commands'));
      const probes = await Promise.allSettled(
        this.options.targets.map((t) => this.probeHost(ops!.get(t.name), t)),
      );
      const failures = probes.flatMap((r) =>
        r.status === 'rejected' ? [(r.reason as Error).message] : [],
      );
      if (failures.length > 0) throw new Error(failures.join('\n'));
      for (const r of probes) {
        if (r.status === 'fulfilled') this.hostStates.set(r.value.target.name, r.value);
      }
    } catch (err) {
      await ops?.dispose();
      await hosts.dispose();
      throw err;
    }
    this.hosts = hosts;
    this.ops = ops;
    this.timings.connect_ms = performance.now() - t0;
  }

  /** The command link to a host by inventory name (preflight uses the testbed's links). */
  connection(hostName: string): SshConnection {
    if (this.ops === null) throw new Error('SSH testbed: connect() first');
    return this.ops.get(hostName);
  }

  private streamConnection(hostName: string): SshConnection {
    if (this.hosts === null) throw new Error('SSH testbed: connect() first');
    return this.hosts.get(hostName);
  }

  get targets(): readonly SshTarget[] {
    return this.options.targets;
  }

  hostInfo(hostName: string): { nodePath: string; nodeVersion: string; root: string } | null {
    const h = this.hostStates.get(hostName);
    return h === undefined
      ? null
      : { nodePath: h.probe.nodePath, nodeVersion: h.probe.version, root: h.root };
  }

  /** Which host a node runs on. */
  hostOf(node: NodeId): string {
    return this.require(node).host.target.name;
  }

  async provision(runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]> {
    await this.connect();
    const t0 = performance.now();
    const targets = this.options.targets;
    const placed = plan.map((p, i) => ({ p, host: this.host(targets[i % targets.length]!.name) }));
    const byHost = new Map<HostState, typeof placed>();
    for (const entry of placed) byHost.set(entry.host, [...(byHost.get(entry.host) ?? []), entry]);
    const out = new Map<NodeId, ProvisionedNode>();
    await Promise.all(
      [...byHost].map(async ([host, entries]) => {
        const runDir = posix.join(host.root, runId);
        const dirs = entries.map((e) => posix.join(runDir, e.p.id));
        for (const d of dirs) {
          const socket = posix.join(d, 'control.sock');
          if (socket.length > MAX_SOCKET_PATH) {
            throw new Error(
              `SSH testbed: control socket path ${socket} on ${host.target.name} is ${socket.length} bytes, over ` +
                `the ${MAX_SOCKET_PATH}-byte limit of Unix sockets; set a shorter workDir for it in the inventory`,
            );
          }
        }
        await this.run(
          host,
          `umask 077 && mkdir -p ${dirs.map(shellQuote).join(' ')}`,
          'create the run directories',
        );
        this.runDirs.push({ host, dir: runDir });
        const replicas = entries.filter((e) => e.p.role === 'replica').length;
        const ports = replicas === 0 ? [] : await this.freePorts(host, replicas);
        let k = 0;
        entries.forEach((e, i) => {
          const workDir = dirs[i]!;
          const node: ProvisionedNode = {
            id: e.p.id,
            role: e.p.role,
            host: host.target.host,
            port: e.p.role === 'replica' ? ports[k++]! : null,
            workDir,
            controlSocket: posix.join(workDir, 'control.sock'),
          };
          out.set(e.p.id, node);
          this.nodes.set(e.p.id, {
            node,
            host,
            files: agentFiles(workDir),
            state: 'not-started',
            pid: null,
            wrapperPid: null,
            generation: 0,
            exitReported: false,
            watching: false,
          });
        });
      }),
    );
    this.timings.provision_ms = performance.now() - t0;
    return plan.map((p) => out.get(p.id)!);
  }

  async deploy(): Promise<{ agentSha256: string }> {
    await this.connect();
    const t0 = performance.now();
    const bundle = await (this.options.bundle ?? ensureAgentBundle)();
    this.bundle = bundle;
    this.deployReport.length = 0;
    // One upload per distinct bundle path: hosts that are one machine share it.
    const uploads = new Map<string, HostState>();
    for (const h of this.hostStates.values()) {
      const key = `${h.target.host}:${h.target.port}:${h.bundlePath}`;
      if (!uploads.has(key)) uploads.set(key, h);
    }
    await Promise.all(
      [...uploads.values()].map(async (h) => {
        const result = await this.streamConnection(h.target.name).uploadIfChanged(
          bundle.path,
          h.bundlePath,
          { mode: 0o644 },
        );
        const message =
          result.status === 'skipped'
            ? `${h.target.name}: agent up to date (hash match), upload skipped`
            : `${h.target.name}: agent uploaded (${(result.bytes / 1024).toFixed(0)} KiB) to ${h.bundlePath}`;
        this.deployReport.push({ host: h.target.name, status: result.status, message });
        this.log(message);
      }),
    );
    this.timings.upload_ms = performance.now() - t0;
    return { agentSha256: bundle.sha256 };
  }

  async writeConfig(id: NodeId, config: AgentConfigInput): Promise<void> {
    const n = this.require(id);
    await this.run(
      n.host,
      `umask 077 && cat > ${shellQuote(n.files.config)}`,
      `write the agent config of ${id}`,
      JSON.stringify(config, null, 2),
    );
  }

  async start(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state === 'running' || n.state === 'paused') return;
    if (this.bundle === null) throw new Error('SSH testbed: deploy() must run before start()');
    const t0 = performance.now();
    const out = await this.run(
      n.host,
      startAgentCommand(n.host.probe.nodePath, n.host.bundlePath, n.files),
      `start the agent of ${id}`,
    );
    const pids = parsePids(out);
    if (pids === null) {
      throw new Error(
        `SSH testbed: starting agent ${id} on ${n.host.target.name} printed "${out.trim()}", not its PIDs; ` +
          `see ${n.files.stdoutLog} there`,
      );
    }
    n.pid = pids.pid;
    n.wrapperPid = pids.wrapperPid;
    n.state = 'running';
    n.generation += 1;
    n.exitReported = false;
    this.watch(n);
    this.timings.start_ms = Math.max(this.timings.start_ms, performance.now() - t0);
  }

  async kill(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state !== 'running' && n.state !== 'paused') return;
    const status = await this.signal(n, 'KILL');
    this.exited(n, n.generation, status === 'gone' ? '' : status);
  }

  async pause(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state !== 'running') return;
    await this.signal(n, 'STOP');
    n.state = 'paused';
  }

  async resume(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state !== 'paused') return;
    await this.signal(n, 'CONT');
    n.state = 'running';
  }

  async restart(id: NodeId): Promise<void> {
    await this.kill(id);
    await this.start(id);
  }

  state(id: NodeId): ProcessState {
    return this.require(id).state;
  }

  pid(id: NodeId): number | null {
    return this.require(id).pid;
  }

  async connectControl(id: NodeId): Promise<Duplex> {
    const n = this.require(id);
    const connection = this.streamConnection(n.host.target.name);
    const deadline = Date.now() + CONTROL_CONNECT_TIMEOUT_MS;
    let lastError = 'not tried';
    while (Date.now() < deadline) {
      if (n.state === 'exited' || this.tornDown) {
        throw new Error(
          `agent ${id} on ${n.host.target.name} is not running; see ${n.files.stdoutLog} and agent.log there`,
        );
      }
      try {
        await connection.whenConnected(Math.max(1, deadline - Date.now()));
        return await connection.forwardStreamLocal(n.node.controlSocket);
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(50);
    }
    throw new Error(
      `could not reach agent ${id}'s control socket ${n.node.controlSocket} on ${n.host.target.name} within ` +
        `${CONTROL_CONNECT_TIMEOUT_MS} ms (${lastError}); see ${n.files.stdoutLog} and agent.log there`,
    );
  }

  onNotice(listener: (notice: TestbedNotice) => void): void {
    this.listeners.push(listener);
    for (const notice of this.early.splice(0)) listener(notice);
  }

  async teardown(options: { keepWorkDirs?: boolean; grace_ms?: number } = {}): Promise<void> {
    if (this.hosts === null) return;
    const grace_ms = options.grace_ms ?? 2_000;
    const problems: string[] = [];
    await Promise.all(
      [...this.nodes.values()].map(async (n) => {
        if (n.state !== 'running' && n.state !== 'paused') return;
        try {
          await this.connection(n.host.target.name).whenConnected(10_000);
          let status = await this.signal(n, 'TERM', grace_ms);
          if (status === 'running') status = await this.signal(n, 'KILL');
          this.exited(n, n.generation, status === 'gone' ? '' : status);
        } catch (err) {
          problems.push(`${n.node.id}: ${(err as Error).message}`);
        }
      }),
    );
    this.tornDown = true;
    if (options.keepWorkDirs !== true) {
      await Promise.all(
        this.runDirs.map(({ host, dir }) =>
          this.run(host, `rm -rf -- ${shellQuote(dir)}`, `remove ${dir}`).catch((err: Error) =>
            problems.push(err.message),
          ),
        ),
      );
    } else {
      for (const { host, dir } of this.runDirs) this.log(`${host.target.name}: kept ${dir}`);
    }
    this.runDirs = [];
    const hosts = this.hosts;
    const ops = this.ops;
    this.hosts = null;
    this.ops = null;
    for (const shell of this.shells.values()) (await shell.catch(() => null))?.close();
    this.shells.clear();
    await hosts.dispose();
    await ops?.dispose();
    if (problems.length > 0) {
      throw new Error(
        `SSH testbed teardown left something behind:\n  ${problems.join('\n  ')}\n` +
          'the agents exit on their own when their lease expires; check the hosts with `ps` and remove the run directories',
      );
    }
  }

  // ------------------------------------------------------------------ internals

  private async probeHost(connection: SshConnection, target: SshTarget): Promise<HostState> {
    const result = await connection.exec(NODE_PROBE_COMMAND, { timeoutMs: EXEC_TIMEOUT_MS });
    const probe = result.code === 0 ? parseNodeProbe(result.stdout) : null;
    if (probe === null) {
      throw new Error(
        `${target.name} (${connection.where}): Node.js is missing (${result.stderr.trim() || result.stdout.trim() || `exit ${String(result.code)}`}); ` +
          `install Node ${MIN_NODE_MAJOR} or newer there (e.g. from nodejs.org or NodeSource) so that \`node\` is on the PATH of a non-interactive SSH session`,
      );
    }
    if (probe.major < MIN_NODE_MAJOR) {
      throw new Error(
        `${target.name} (${connection.where}): Node ${probe.version} at ${probe.nodePath} is too old; the agent needs ` +
          `Node ${MIN_NODE_MAJOR} or newer: upgrade it there`,
      );
    }
    const root = remotePath(
      target.workDir ?? this.options.defaultRoot ?? '~/.faultlab',
      probe.home,
    );
    return { target, probe, root, bundlePath: posix.join(root, 'agent', 'faultlab-agent.cjs') };
  }

  private async freePorts(host: HostState, count: number): Promise<number[]> {
    const out = await this.run(
      host,
      freePortsCommand(host.probe.nodePath, host.target.host, count),
      `find ${count} free ports on ${host.target.host}`,
    );
    const ports = parsePorts(out, count);
    if (ports === null) {
      throw new Error(
        `SSH testbed: ${host.target.name} did not report ${count} free ports on ${host.target.host} (got "${out.trim()}"); ` +
          "is that address one of the host's own? Set host: in the inventory to the address peers should dial",
      );
    }
    return ports;
  }

  private async signal(
    n: RemoteNode,
    signal: 'KILL' | 'TERM' | 'STOP' | 'CONT',
    waitTimeout_ms?: number,
  ): Promise<string> {
    if (n.pid === null || n.wrapperPid === null) return 'gone';
    const out = await this.run(
      n.host,
      signalAgentCommand(n.pid, n.wrapperPid, n.files, signal, waitTimeout_ms),
      `send SIG${signal} to agent ${n.node.id} (pid ${n.pid})`,
    );
    return out.trim();
  }

  /** Watch for the agent's exit over an exec that lives as long as it; re-armed after a reconnect. */
  private watch(n: RemoteNode): void {
    if (n.watching || n.wrapperPid === null) return;
    const connection = this.ops?.get(n.host.target.name);
    if (connection === undefined || connection.state !== 'connected') return;
    const generation = n.generation;
    n.watching = true;
    connection
      .exec(watchAgentCommand(n.wrapperPid, n.files), { timeoutMs: WATCHER_TIMEOUT_MS })
      .then(
        (result) => {
          n.watching = false;
          // No exit status: the channel closed with the SSH link, not because the agent ended.
          if (result.code === 0) this.exited(n, generation, result.stdout);
        },
        () => {
          n.watching = false;
        },
      );
  }

  private exited(n: RemoteNode, generation: number, statusText: string): void {
    if (n.generation !== generation || n.exitReported) return;
    n.exitReported = true;
    n.state = 'exited';
    const { code, signal } = parseExitStatus(statusText);
    this.notify({ kind: 'exited', node: n.node.id, code, signal });
  }

  private onLinkChange(
    hostName: string,
    role: 'streams' | 'commands',
    change: SshStateChange,
  ): void {
    if (this.tornDown) return;
    const nodes = [...this.nodes.values()].filter((n) => n.host.target.name === hostName);
    const names = nodes.map((n) => n.node.id).join(' ');
    const link = `SSH link (${role})`;
    if (change.state === 'reconnecting' && change.attempt === 1) {
      this.log(
        `${hostName}: ${link} lost (${change.error?.message ?? 'closed'}); reconnecting; agents ${names || '(none)'} keep running`,
      );
    } else if (change.state === 'connected' && change.attempt > 0) {
      this.log(`${hostName}: ${link} back after ${change.attempt} attempt(s)`);
      if (role === 'commands') {
        for (const n of nodes) {
          if (n.state === 'running' || n.state === 'paused') this.watch(n);
        }
      }
    } else if (change.state === 'failed') {
      this.log(`${hostName}: ${link} failed for good: ${change.error?.message ?? ''}`);
    }
  }

  private async run(
    host: HostState,
    command: string,
    what: string,
    stdin?: string,
  ): Promise<string> {
    const result =
      stdin === undefined
        ? await (await this.shell(host)).run(command, EXEC_TIMEOUT_MS)
        : await this.connection(host.target.name).exec(command, {
            timeoutMs: EXEC_TIMEOUT_MS,
            stdin,
          });
    if (result.code !== 0) {
      throw new Error(
        `SSH testbed: could not ${what} on ${host.target.name}: exit ${String(result.code)}` +
          `${result.stderr.trim() === '' ? '' : `: ${result.stderr.trim()}`}`,
      );
    }
    return result.stdout;
  }

  /** The host's command shell, reopened when its link dropped. */
  private async shell(host: HostState): Promise<RemoteShell> {
    const name = host.target.name;
    let pending = this.shells.get(name);
    if (pending !== undefined) {
      const open = await pending.catch(() => null);
      if (open !== null && !open.isClosed) return open;
    }
    const connection = this.connection(name);
    await connection.whenConnected(EXEC_TIMEOUT_MS);
    pending = RemoteShell.open(connection);
    this.shells.set(name, pending);
    return pending;
  }

  private host(name: string): HostState {
    const h = this.hostStates.get(name);
    if (h === undefined) throw new Error(`SSH testbed: host "${name}" is not connected`);
    return h;
  }

  private log(line: string): void {
    this.options.log?.(line);
    this.notify({ kind: 'log', node: null, text: line });
  }

  private notify(notice: TestbedNotice): void {
    if (this.listeners.length === 0) {
      // Deploy lines come before the run subscribes; keep them (bounded) for its log.
      if (this.early.length < MAX_EARLY_NOTICES) this.early.push(notice);
      return;
    }
    for (const l of this.listeners) l(notice);
  }

  private require(id: NodeId): RemoteNode {
    const n = this.nodes.get(id);
    if (n === undefined) {
      throw new Error(
        `SSH testbed has no node "${id}" (nodes: ${[...this.nodes.keys()].join(', ')})`,
      );
    }
    return n;
  }
}
