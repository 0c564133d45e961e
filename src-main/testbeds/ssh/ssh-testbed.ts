import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentConfigInput } from '../../../src-node-agent/control/agent-config';
import type { NodeId } from '../../../src-node-agent/core/ids';
import type { SshConnection, SshStateChange } from '../../ssh/ssh-connection';
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
import { deployBundle, type BundleDeployEntry } from './bundle-deploy';
import { COMMAND_TIMEOUT_MS, HostLinks, type HostState, type LinkRole } from './host-links';
import {
  agentFiles,
  freePortsCommand,
  parseExitStatus,
  parsePids,
  parsePorts,
  signalAgentCommand,
  startAgentCommand,
  watchAgentCommand,
  writeFileCommand,
  type AgentFiles,
} from './remote-commands';
import type { RemoteShell } from './remote-shell';
import type { SshLinkOptions } from './ssh-hosts';

export interface SshTestbedOptions extends SshLinkOptions {
  readonly targets: readonly SshTarget[];
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
  /** The command shell whose background watcher reports this agent's exit. */
  watchedBy: RemoteShell | null;
}

const CONTROL_CONNECT_TIMEOUT_MS = 15_000;
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
  /** Stream and command links, command shells, what each host has (host-links.ts). */
  private links: HostLinks | null = null;
  private connecting: Promise<HostLinks> | null = null;
  /** The agent bundle, checked (and rebuilt if stale) while the hosts are provisioned. */
  private bundlePending: Promise<{ path: string; sha256: string }> | null = null;
  /** Shells whose watcher notices we listen to. */
  private readonly listened = new WeakSet<RemoteShell>();
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
  readonly deployReport: BundleDeployEntry[] = [];

  constructor(private readonly options: SshTestbedOptions) {
    if (options.targets.length === 0) {
      throw new Error('SSH testbed: the inventory has no hosts; add at least one under hosts:');
    }
    this.kind = options.kind ?? 'ssh';
    this.kernelFaults = options.kernelFaults ?? null;
  }

  /** Connect to every host in parallel and check Node on each (idempotent). */
  async connect(): Promise<void> {
    await this.connectFor(undefined);
  }

  /** connect(), finding free ports along with the probe when a provision is what asks. */
  private async connectFor(
    portsWanted: ReadonlyMap<string, { address: string; count: number }> | undefined,
  ): Promise<void> {
    if (this.links !== null) return;
    const t0 = performance.now();
    this.connecting ??= HostLinks.open(this.options.targets, {
      knownHosts: this.options.knownHosts,
      acceptance: this.options.acceptance,
      askPassphrase: this.options.askPassphrase,
      agentSocket: this.options.agentSocket,
      reconnect: this.options.reconnect,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs,
      defaultRoot: this.options.defaultRoot,
      portsWanted,
      onWarning: (m: string) => this.log(m),
      onStateChange: (name, role, change) => this.onLinkChange(name, role, change),
    });
    try {
      this.links = await this.connecting;
    } finally {
      this.connecting = null;
    }
    this.timings.connect_ms = performance.now() - t0;
  }

  /** The command link to a host by inventory name (preflight uses the testbed's links). */
  connection(hostName: string): SshConnection {
    return this.requireLinks().commands(hostName);
  }

  get targets(): readonly SshTarget[] {
    return this.options.targets;
  }

  hostInfo(hostName: string): { nodePath: string; nodeVersion: string; root: string } | null {
    const h = this.links?.hosts.find((x) => x.target.name === hostName);
    return h === undefined
      ? null
      : { nodePath: h.probe.nodePath, nodeVersion: h.probe.version, root: h.root };
  }

  /** Which host a node runs on. */
  hostOf(node: NodeId): string {
    return this.require(node).host.target.name;
  }

  async provision(runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]> {
    // A deploy follows: check the local bundle while the hosts are reached.
    this.bundlePending ??= this.loadBundle();
    const targets = this.options.targets;
    const targetOf = (i: number): SshTarget => targets[i % targets.length]!;
    const portsWanted = new Map<string, { address: string; count: number }>();
    plan.forEach((p, i) => {
      if (p.role !== 'replica') return;
      const t = targetOf(i);
      portsWanted.set(t.name, {
        address: t.host,
        count: (portsWanted.get(t.name)?.count ?? 0) + 1,
      });
    });
    await this.connectFor(portsWanted);
    const t0 = performance.now();
    const links = this.requireLinks();
    const placed = plan.map((p, i) => ({ p, host: links.host(targetOf(i).name) }));
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
        const replicas = entries.filter((e) => e.p.role === 'replica').length;
        // Found by the probe when this provision connected; else searched here, in the same
        // round trip as the run directories.
        const probed = replicas === 0 ? [] : links.takeProbedPorts(host.target.name, replicas);
        const printed = await links.run(
          host,
          `umask 077 && mkdir -p ${dirs.map(shellQuote).join(' ')}` +
            (probed !== null
              ? ''
              : ` && ${freePortsCommand(host.probe.nodePath, host.target.host, replicas)}`),
          `create the run directories${probed !== null ? '' : ` and find ${replicas} free ports on ${host.target.host}`}`,
        );
        this.runDirs.push({ host, dir: runDir });
        const ports = probed ?? this.parseFreePorts(host, printed, replicas);
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
            watchedBy: null,
          });
        });
      }),
    );
    this.timings.provision_ms = performance.now() - t0;
    return plan.map((p) => out.get(p.id)!);
  }

  async deploy(): Promise<{ agentSha256: string }> {
    const pending = (this.bundlePending ??= this.loadBundle());
    this.bundlePending = null;
    await this.connect();
    const t0 = performance.now();
    const links = this.requireLinks();
    const bundle = await pending;
    this.bundle = bundle;
    this.deployReport.length = 0;
    await deployBundle(links, bundle, (entry) => {
      this.deployReport.push(entry);
      this.log(entry.message);
    });
    this.timings.upload_ms = performance.now() - t0;
    return { agentSha256: bundle.sha256 };
  }

  async writeConfig(id: NodeId, config: AgentConfigInput): Promise<void> {
    const n = this.require(id);
    await this.requireLinks().run(
      n.host,
      writeFileCommand(n.files.config, JSON.stringify(config, null, 2)),
      `write the agent config of ${id}`,
    );
  }

  async start(id: NodeId): Promise<void> {
    const n = this.require(id);
    if (n.state === 'running' || n.state === 'paused') return;
    if (this.bundle === null) throw new Error('SSH testbed: deploy() must run before start()');
    const t0 = performance.now();
    const out = await this.requireLinks().run(
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
    const connection = await this.requireLinks()
      .streams(n.host.target.name)
      .catch((err: Error) => {
        throw new Error(
          `cannot reach agent ${id} on ${n.host.target.name}: its stream link did not connect: ${err.message}`,
          { cause: err },
        );
      });
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
    if (this.connecting !== null) await this.connecting.catch(() => undefined);
    const links = this.links;
    if (links === null) return;
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
          links
            .run(host, `rm -rf -- ${shellQuote(dir)}`, `remove ${dir}`)
            .catch((err: Error) => problems.push(err.message)),
        ),
      );
    } else {
      for (const { host, dir } of this.runDirs) this.log(`${host.target.name}: kept ${dir}`);
    }
    this.runDirs = [];
    this.links = null;
    await links.dispose();
    if (problems.length > 0) {
      throw new Error(
        `SSH testbed teardown left something behind:\n  ${problems.join('\n  ')}\n` +
          'the agents exit on their own when their lease expires; check the hosts with `ps` and remove the run directories',
      );
    }
  }

  // ------------------------------------------------------------------ internals

  private loadBundle(): Promise<{ path: string; sha256: string }> {
    const pending = (this.options.bundle ?? ensureAgentBundle)();
    // Awaited by deploy(); a provision that fails first must not leave it unhandled.
    pending.catch(() => undefined);
    return pending;
  }

  private parseFreePorts(host: HostState, out: string, count: number): number[] {
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
    const out = await this.requireLinks().run(
      n.host,
      signalAgentCommand(n.pid, n.wrapperPid, n.files, signal, waitTimeout_ms),
      `send SIG${signal} to agent ${n.node.id} (pid ${n.pid})`,
    );
    return out.trim();
  }

  /**
   * Watch for the agent's exit with a background job of the host's command shell (no exec
   * channel of its own); re-armed in the new shell after a reconnect.
   */
  private watch(n: RemoteNode): void {
    const links = this.links;
    const wrapperPid = n.wrapperPid;
    const name = n.host.target.name;
    if (links === null || wrapperPid === null) return;
    if (links.commands(name).state !== 'connected') return;
    const generation = n.generation;
    const tag = `${n.node.id}:${generation}`;
    void links
      .shell(name)
      .then(async (shell) => {
        if (n.watchedBy === shell || n.generation !== generation) return;
        n.watchedBy = shell;
        this.listen(shell);
        const command = watchAgentCommand(wrapperPid, n.files, (v) => shell.noticeCommand(tag, v));
        const result = await shell.run(command, COMMAND_TIMEOUT_MS);
        if (result.code !== 0) throw new Error(result.stderr.trim() || `exit ${result.code}`);
      })
      .catch((err: Error) => {
        n.watchedBy = null;
        if (this.tornDown) return;
        this.log(
          `${name}: could not watch agent ${n.node.id} for its exit (${err.message}); ` +
            'an exit is reported once the command link is back',
        );
      });
  }

  private listen(shell: RemoteShell): void {
    if (this.listened.has(shell)) return;
    this.listened.add(shell);
    shell.onNotice((tag, text) => {
      const at = tag.lastIndexOf(':');
      const n = this.nodes.get(tag.slice(0, at) as NodeId);
      const generation = Number(tag.slice(at + 1));
      if (n !== undefined && n.watchedBy === shell) this.exited(n, generation, text);
    });
  }

  private exited(n: RemoteNode, generation: number, statusText: string): void {
    if (n.generation !== generation || n.exitReported) return;
    n.exitReported = true;
    n.state = 'exited';
    const { code, signal } = parseExitStatus(statusText);
    this.notify({ kind: 'exited', node: n.node.id, code, signal });
  }

  private onLinkChange(hostName: string, role: LinkRole, change: SshStateChange): void {
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

  private requireLinks(): HostLinks {
    if (this.links === null) throw new Error('SSH testbed: connect() first');
    return this.links;
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
