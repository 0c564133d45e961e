/**
 * Deploy + start on 10 netns hosts over SSH (goal < 3 s end to end): a 10-namespace testbed
 * (each with its own sshd) is brought up first, outside the measurement; then two runs of 9
 * Paxos replicas + the workload node, one node per host: a cold deploy (the agent bundle
 * uploaded by SFTP once: the namespaces share this machine's filesystem, which every host
 * confirms by its hash) and a warm one (hash match, upload skipped). End to end is
 * from provision() (SSH connect, Node check, run dirs, ports) to the last agent started; the
 * split is the SSH testbed's own timings. The stream links (control connections) connect in
 * the background from the end of `connect`, while the hosts are provisioned and the agents
 * boot. Every "host" here shares this machine's cores, so the one shell per host (and its
 * run of root's shell startup files) is paid ten times over on the same CPUs: `connect` is
 * mostly that. Needs root, ip, nft, tc, sshd (skipped otherwise).
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../src-node-agent/core/ids';
import { runOnLocalTestbed } from '../src-main/orchestrator/quick-run';
import { netnsTargets, pinnedKnownHosts } from '../src-main/testbeds/netns/netns-testbed';
import { down } from '../src-main/testbeds/netns/netns-testbed-down';
import { up, type NetnsTestbed } from '../src-main/testbeds/netns/netns-testbed-up';
import { findTool } from '../src-main/testbeds/netns/run-tool';
import { SshTestbed } from '../src-main/testbeds/ssh/ssh-testbed';
import type { NodePlan, ProvisionedNode, Testbed } from '../src-main/testbeds/testbed';
import { benchPlan } from './support/paxos-point';

const HOSTS = 10;
const GOAL_MS = 3_000;

interface Measured {
  readonly endToEnd_ms: number;
  readonly tb: SshTestbed;
}

/**
 * The SSH testbed with two timestamps taken around it: when provision() is called and when
 * the last start() returns (the orchestrator starts the agents after deploy and configs).
 */
function timed(tb: SshTestbed, nodes: number): { testbed: Testbed; result: () => number } {
  let t0 = 0;
  let lastStart = 0;
  let started = 0;
  const testbed = new Proxy(tb, {
    get(target, prop, receiver) {
      if (prop === 'provision') {
        return (runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]> => {
          t0 = performance.now();
          return target.provision(runId, plan);
        };
      }
      if (prop === 'start') {
        return async (node: NodeId): Promise<void> => {
          await target.start(node);
          if (++started <= nodes) lastStart = performance.now();
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { testbed, result: () => lastStart - t0 };
}

/** A work dir of the bench's own, so a cold deploy removes nobody else's bundle. */
const benchWorkDir = (info: NetnsTestbed): string => `/var/tmp/faultlab-bench-${info.id}`;

async function deployOnce(info: NetnsTestbed, label: string): Promise<Measured> {
  const tb = new SshTestbed({
    kind: 'netns',
    targets: netnsTargets(info).map((t) => ({ ...t, workDir: benchWorkDir(info) })),
    knownHosts: await pinnedKnownHosts(info),
    agentSocket: null,
  });
  const plan = benchPlan(4, 'memory', 1_500, {
    name: `bench-ssh-deploy-${label}`,
    nodes: HOSTS - 1,
  });
  const t = timed(tb, HOSTS);
  const outcome = await runOnLocalTestbed(plan, { testbed: t.testbed });
  if (outcome.problems.length > 0) console.log(`  problems: ${outcome.problems.join('; ')}`);
  return { endToEnd_ms: t.result(), tb };
}

function report(label: string, m: Measured): void {
  const { connect_ms, provision_ms, upload_ms, start_ms } = m.tb.timings;
  const uploaded = m.tb.deployReport.filter((r) => r.status === 'uploaded').length;
  const skipped = m.tb.deployReport.filter((r) => r.status === 'skipped').length;
  const rest = m.endToEnd_ms - connect_ms - provision_ms - upload_ms - start_ms;
  console.log(
    `${label.padEnd(5)} end to end ${m.endToEnd_ms.toFixed(0).padStart(5)} ms ` +
      `(goal < ${GOAL_MS} ms: ${m.endToEnd_ms < GOAL_MS ? 'met' : 'MISSED'}) = ` +
      `connect ${connect_ms.toFixed(0)} (command links, one shell per host, Node probe) + ` +
      `provision ${provision_ms.toFixed(0)} (run dirs, ports) + ` +
      `upload ${upload_ms.toFixed(0)} (${uploaded} uploaded, ${skipped} skipped by hash) + ` +
      `start ${start_ms.toFixed(0)} (slowest agent) + ${rest.toFixed(0)} other (agent configs)`,
  );
}

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'nft', 'tc', 'sshd', 'ssh-keygen', 'unshare']) {
    try {
      findTool(tool);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

export default async function run(): Promise<void> {
  const why = missing();
  if (why !== null) {
    console.log(`ssh-deploy: skipped, ${why}`);
    return;
  }
  const t0 = performance.now();
  const info = await up({ nodes: HOSTS });
  console.log(
    `netns testbed of ${HOSTS} hosts up in ${(performance.now() - t0).toFixed(0)} ms (not counted)`,
  );
  try {
    // Cold: a fresh work dir, no bundle on any host (the namespaces share this filesystem).
    report('cold', await deployOnce(info, 'cold'));
    report('warm', await deployOnce(info, 'warm'));
  } finally {
    await down(info.id, { runtimeDir: info.runtimeDir });
    await rm(benchWorkDir(info), { recursive: true, force: true });
  }
}
