import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { AgentConfigInput } from '../../../src-node-agent/control/agent-config';
import type { NodeId } from '../../../src-node-agent/core/ids';
import { KnownHosts } from '../../ssh/known-hosts';
import type { SshTarget } from '../../ssh/ssh-target';
import { SshTestbed } from '../ssh/ssh-testbed';
import type {
  KernelFaultOutcome,
  KernelFaults,
  KernelNetworkFault,
  NodePlan,
  ProcessState,
  ProvisionedNode,
  Testbed,
  TestbedNotice,
} from '../testbed';
import type { NodeAddress } from './kernel-fault-plan';
import { KernelFaultController } from './kernel-faults';
import { describeReport, down } from './netns-testbed-down';
import { up, type NetnsTestbed as NetnsInfo, type NetnsUpOptions } from './netns-testbed-up';

/** FaultLab's files inside the namespaces (they share this machine's filesystem). */
const NETNS_AGENT_ROOT = '/var/tmp/faultlab';

/** The netns testbed's pinned host keys as a known_hosts file of its own (nothing to accept). */
export async function pinnedKnownHosts(info: NetnsInfo): Promise<KnownHosts> {
  const dir =
    info.hosts[0] === undefined ? info.runtimeDir : join(info.hosts[0].identityFile, '..');
  const knownHosts = new KnownHosts({
    userFile: join(dir, 'known_hosts'),
    faultlabFile: join(dir, 'known_hosts.faultlab'),
  });
  await writeFile(
    knownHosts.files.userFile,
    info.hosts.map((h) => `${h.ip} ${h.hostPublicKey}`).join('\n') + '\n',
    { mode: 0o600 },
  );
  return knownHosts;
}

export function netnsTargets(info: NetnsInfo): SshTarget[] {
  return info.hosts.map((h) => ({
    name: h.name,
    host: h.ip,
    port: h.port,
    user: h.user,
    identityFiles: [h.identityFile],
    jump: null,
    workDir: NETNS_AGENT_ROOT,
  }));
}

/**
 * Partitions, cuts and degraded links of a run as kernel rules between the replicas'
 * namespaces (the workload node's traffic is left alone, as the agents' link filters leave it).
 */
class NetnsKernelFaults implements KernelFaults {
  readonly description: string;
  constructor(
    private readonly controller: KernelFaultController,
    info: NetnsInfo,
  ) {
    this.description =
      `nftables table ${info.nftTable.family} ${info.nftTable.name}, tc on eth0 of each namespace; ` +
      (info.netem.available ? 'netem: yes' : `netem: no (${info.netem.reason})`);
  }

  async apply(faultId: string, fault: KernelNetworkFault): Promise<KernelFaultOutcome> {
    const r = await this.controller.apply(faultId, fault);
    const fallback =
      r.fallback === null
        ? null
        : {
            fault: {
              type: 'degrade' as const,
              ...(r.fallback.links === null
                ? {}
                : { links: r.fallback.links.map(([a, b]) => [a, b] as [NodeId, NodeId]) }),
              profile: r.fallback.profile,
            },
            reason: r.fallback.reason,
          };
    return { applied: r.applied, fallback, actuation_ms: r.actuation_ms };
  }

  async heal(faultId: string): Promise<void> {
    await this.controller.heal(faultId);
  }

  async healAll(): Promise<void> {
    await this.controller.healAll();
  }
}

/**
 * `--testbed netns`: one namespace per node (replicas and the workload node), each with its
 * own IP and sshd, brought up for the run and removed after it; agents deployed over SSH
 * exactly as to real hosts; network faults as kernel rules. Needs root (up() says so and
 * points to the local testbed otherwise).
 */
export class NetnsTestbed implements Testbed {
  readonly kind = 'netns';
  private info: NetnsInfo | null = null;
  private inner: SshTestbed | null = null;
  private kernel: NetnsKernelFaults | null = null;
  private kernelController: KernelFaultController | null = null;
  private readonly listeners: ((notice: TestbedNotice) => void)[] = [];

  constructor(
    private readonly options: {
      readonly log?: (line: string) => void;
      readonly up?: Omit<NetnsUpOptions, 'nodes' | 'log'>;
    } = {},
  ) {}

  get kernelFaults(): KernelFaults | null {
    return this.kernel;
  }

  /** The namespaces, once provisioned (tests and preflight look at them). */
  get testbed(): NetnsInfo | null {
    return this.info;
  }

  get ssh(): SshTestbed | null {
    return this.inner;
  }

  async provision(runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]> {
    const log = this.options.log ?? (() => undefined);
    const info = await up({ ...this.options.up, nodes: plan.length, log });
    this.info = info;
    try {
      const inner = new SshTestbed({
        kind: 'netns',
        targets: netnsTargets(info),
        knownHosts: await pinnedKnownHosts(info),
        agentSocket: null,
        log,
      });
      this.inner = inner;
      for (const l of this.listeners) inner.onNotice(l);
      const nodes = await inner.provision(runId, plan);
      const replicas = new Map<NodeId, NodeAddress>();
      for (const n of nodes) {
        if (n.role !== 'replica') continue;
        const host = info.hosts.find((h) => h.ip === n.host);
        if (host !== undefined) replicas.set(n.id, { ip: host.ip, namespace: host.namespace });
      }
      this.kernelController = new KernelFaultController({
        nftTable: info.nftTable,
        nodes: replicas,
        netem: info.netem,
      });
      this.kernel = new NetnsKernelFaults(this.kernelController, info);
      log(`netns testbed ${info.id}: kernel faults in ${this.kernel.description}`);
      return nodes;
    } catch (err) {
      await this.teardown().catch(() => undefined);
      throw err;
    }
  }

  deploy(): Promise<{ agentSha256: string }> {
    return this.require().deploy();
  }
  writeConfig(node: NodeId, config: AgentConfigInput): Promise<void> {
    return this.require().writeConfig(node, config);
  }
  start(node: NodeId): Promise<void> {
    return this.require().start(node);
  }
  kill(node: NodeId): Promise<void> {
    return this.require().kill(node);
  }
  pause(node: NodeId): Promise<void> {
    return this.require().pause(node);
  }
  resume(node: NodeId): Promise<void> {
    return this.require().resume(node);
  }
  restart(node: NodeId): Promise<void> {
    return this.require().restart(node);
  }
  state(node: NodeId): ProcessState {
    return this.require().state(node);
  }
  pid(node: NodeId): number | null {
    return this.require().pid(node);
  }
  connectControl(node: NodeId): Promise<Duplex> {
    return this.require().connectControl(node);
  }

  onNotice(listener: (notice: TestbedNotice) => void): void {
    this.listeners.push(listener);
    this.inner?.onNotice(listener);
  }

  /** Agents stopped over SSH, kernel rules healed, then namespaces, bridge, sshds removed. */
  async teardown(options: { keepWorkDirs?: boolean; grace_ms?: number } = {}): Promise<void> {
    const problems: string[] = [];
    const inner = this.inner;
    this.inner = null;
    if (inner !== null) await inner.teardown(options).catch((e: Error) => problems.push(e.message));
    const kc = this.kernelController;
    this.kernelController = null;
    this.kernel = null;
    if (kc !== null) {
      await kc.healAll().catch((e: Error) => problems.push(e.message));
      kc.close();
    }
    const info = this.info;
    this.info = null;
    if (info !== null) {
      // `down` stops every process left in our namespaces too, so nothing outlives the run.
      const report = await down(info.id, { runtimeDir: info.runtimeDir });
      this.options.log?.(describeReport(report));
    }
    if (problems.length > 0) throw new Error(`netns testbed teardown: ${problems.join('; ')}`);
  }

  private require(): SshTestbed {
    if (this.inner === null) throw new Error('netns testbed: provision() first');
    return this.inner;
  }
}
