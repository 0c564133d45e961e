import type { Duplex } from 'node:stream';
import type { AgentConfigInput } from '../../src-node-agent/control/agent-config';
import type { NodeId } from '../../src-node-agent/core/ids';
import { NetnsTestbed } from '../testbeds/netns/netns-testbed';
import { SshTestbed } from '../testbeds/ssh/ssh-testbed';
import type {
  KernelFaults,
  NodePlan,
  ProcessState,
  ProvisionedNode,
  Testbed,
  TestbedNotice,
} from '../testbeds/testbed';
import { PreflightFailed, type PreflightResult } from './preflight-result';
import { formatPreflight } from './preflight-table';
import { runPreflight, type KernelFaultSetting, type PreflightHost } from './run-preflight';

/** The preflight of a provisioned SSH testbed: its own links, the agent ports it picked. */
export async function preflightProvisioned(
  ssh: SshTestbed,
  nodes: readonly ProvisionedNode[],
  kernel: KernelFaultSetting,
  testbed: string,
): Promise<PreflightResult> {
  const portsOf = new Map<string, number[]>();
  for (const n of nodes) {
    if (n.port === null) continue;
    const host = ssh.hostOf(n.id);
    portsOf.set(host, [...(portsOf.get(host) ?? []), n.port]);
  }
  const hosts: PreflightHost[] = ssh.targets.map((t) => ({
    name: t.name,
    address: t.host,
    connection: ssh.connection(t.name),
    unreachable: null,
    ports: portsOf.get(t.name) ?? [],
  }));
  return runPreflight({ testbed, hosts, kernel });
}

/**
 * A netns or SSH testbed whose provision() ends with a preflight: once the hosts are
 * connected and the agent ports picked, every required check must pass, or the run is
 * refused (PreflightFailed, with every reason) before anything is deployed.
 */
export class PreflightedTestbed implements Testbed {
  readonly kind: string;
  /** The last preflight's result (the dashboard shows it). */
  result: PreflightResult | null = null;

  constructor(
    private readonly inner: SshTestbed | NetnsTestbed,
    private readonly options: {
      readonly print: (line: string) => void;
      /** Every result, passed or not, before the run goes on or is refused. */
      readonly onResult?: (result: PreflightResult) => void;
    },
  ) {
    this.kind = inner.kind;
  }

  get kernelFaults(): KernelFaults | null {
    return this.inner.kernelFaults ?? null;
  }

  async provision(runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]> {
    const nodes = await this.inner.provision(runId, plan);
    let result: PreflightResult;
    try {
      const inner = this.inner;
      if (inner instanceof NetnsTestbed) {
        const ssh = inner.ssh;
        const info = inner.testbed;
        if (ssh === null || info === null) throw new Error('netns testbed: not provisioned');
        result = await preflightProvisioned(
          ssh,
          nodes,
          { kind: 'netns', netem: info.netem },
          'netns',
        );
      } else {
        result = await preflightProvisioned(inner, nodes, { kind: 'ssh' }, inner.kind);
      }
    } catch (err) {
      await this.inner.teardown().catch(() => undefined);
      throw new Error(`preflight could not run: ${(err as Error).message}`);
    }
    this.result = result;
    this.options.onResult?.(result);
    this.options.print('preflight:');
    for (const line of formatPreflight(result)) this.options.print(`  ${line}`);
    if (!result.ok) {
      await this.inner.teardown().catch(() => undefined);
      throw new PreflightFailed(result);
    }
    return nodes;
  }

  deploy(): Promise<{ agentSha256: string }> {
    return this.inner.deploy();
  }
  writeConfig(node: NodeId, config: AgentConfigInput): Promise<void> {
    return this.inner.writeConfig(node, config);
  }
  start(node: NodeId): Promise<void> {
    return this.inner.start(node);
  }
  kill(node: NodeId): Promise<void> {
    return this.inner.kill(node);
  }
  pause(node: NodeId): Promise<void> {
    return this.inner.pause(node);
  }
  resume(node: NodeId): Promise<void> {
    return this.inner.resume(node);
  }
  restart(node: NodeId): Promise<void> {
    return this.inner.restart(node);
  }
  state(node: NodeId): ProcessState {
    return this.inner.state(node);
  }
  pid(node: NodeId): number | null {
    return this.inner.pid(node);
  }
  connectControl(node: NodeId): Promise<Duplex> {
    return this.inner.connectControl(node);
  }
  onNotice(listener: (notice: TestbedNotice) => void): void {
    this.inner.onNotice(listener);
  }
  teardown(options?: { keepWorkDirs?: boolean; grace_ms?: number }): Promise<void> {
    return this.inner.teardown(options);
  }

  /** The SSH testbed underneath (a netns testbed's once provisioned), for node terminals. */
  get ssh(): SshTestbed | null {
    return this.inner instanceof NetnsTestbed ? this.inner.ssh : this.inner;
  }
}
