/**
 * Fault actuation: from the command to the rule being in force on every node, median and
 * max over 30 partitions and 30 heals (goal < 50 ms):
 *  - kernel rules on a 5-node netns testbed (nftables in our bridge table): the
 *    KernelFaultController's actuation, from its call to the last rule command returning;
 *  - agent link rules on the local testbed (5 replicas): from the fault controller's apply
 *    (its journal record) to the last agent's `link-faults` event for that fault.
 * The netns half needs root, ip, nft, tc, sshd; it is skipped with the reason otherwise.
 */
import type { Fault } from '../src-node-agent/core/faults';
import type { NodeId } from '../src-node-agent/core/ids';
import { percentile } from '../src-main/cli/stats';
import { fixedFault } from '../src-main/orchestrator/run-plan';
import { runOnLocalTestbed } from '../src-main/orchestrator/quick-run';
import { readRecording } from '../src-main/record/recording-reader';
import { KernelFaultController } from '../src-main/testbeds/netns/kernel-faults';
import { down } from '../src-main/testbeds/netns/netns-testbed-down';
import { up } from '../src-main/testbeds/netns/netns-testbed-up';
import { findTool } from '../src-main/testbeds/netns/run-tool';
import { benchPlan } from './support/paxos-point';

const ROUNDS = 30;
const GOAL_MS = 50;
const NODES: NodeId[] = ['n1', 'n2', 'n3', 'n4', 'n5'];
const HALVES: Fault = {
  type: 'partition',
  shape: 'halves',
  groups: [
    ['n1', 'n2'],
    ['n3', 'n4', 'n5'],
  ],
};

function summary(what: string, samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  const max = sorted.at(-1) ?? Number.NaN;
  const verdict =
    max < GOAL_MS
      ? 'goal met'
      : median < GOAL_MS
        ? 'median meets the goal, max does not'
        : 'goal MISSED';
  return `${what.padEnd(44)} n=${String(samples.length).padStart(2)}  median ${median.toFixed(2).padStart(6)} ms  max ${max.toFixed(2).padStart(6)} ms  (goal < ${GOAL_MS} ms: ${verdict})`;
}

function netnsMissing(): string | null {
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

async function kernelActuation(): Promise<void> {
  const missing = netnsMissing();
  if (missing !== null) {
    console.log(`kernel rules (netns): skipped, ${missing}`);
    return;
  }
  const info = await up({ nodes: NODES.length });
  try {
    const controller = new KernelFaultController({
      nftTable: info.nftTable,
      nodes: new Map(
        NODES.map((id, i) => [id, { ip: info.hosts[i]!.ip, namespace: info.hosts[i]!.namespace }]),
      ),
      netem: info.netem,
    });
    const applied: number[] = [];
    const healed: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await controller.apply(`f${i}`, HALVES);
      if (r.applied.length === 0)
        throw new Error(`partition ${i} applied no kernel rule: ${JSON.stringify(r)}`);
      applied.push(r.actuation_ms);
      healed.push((await controller.heal(`f${i}`)).actuation_ms);
    }
    await controller.healAll();
    controller.close();
    console.log(summary('kernel rules (netns, nft), partition', applied));
    console.log(summary('kernel rules (netns, nft), heal', healed));
  } finally {
    await down(info.id, { runtimeDir: info.runtimeDir });
  }
}

async function agentActuation(): Promise<void> {
  const period_ms = 150;
  const faults = Array.from({ length: ROUNDS }, (_, i) => [
    fixedFault(1_000 + i * 2 * period_ms, HALVES, 'script'),
    fixedFault(1_000 + (i * 2 + 1) * period_ms, { type: 'heal-network' }, 'script'),
  ]).flat();
  const plan = benchPlan(4, 'memory', 1_000 + ROUNDS * 2 * period_ms + 1_000, {
    name: 'bench-fault-actuation',
    nodes: NODES.length,
    faults,
  });
  const rec = await readRecording((await runOnLocalTestbed(plan)).runDir);
  // The command: the fault's journal record, written when the fault controller takes it.
  const commands = rec.records.flatMap((r) =>
    r.type === 'fault' &&
    r.phase === 'journal' &&
    (r.fault.type === 'partition' || r.fault.type === 'heal-network')
      ? [{ id: r.id, t_ms: r.t_ms, heal: r.fault.type === 'heal-network' }]
      : [],
  );
  const events = rec.records.flatMap((r) =>
    r.type === 'agent' && r.event.kind === 'link-faults'
      ? [
          {
            node: r.node,
            t_ms: r.t_ms,
            action: String(r.event['action']),
            faultId: r.event['faultId'],
          },
        ]
      : [],
  );
  const applied: number[] = [];
  const healed: number[] = [];
  let incomplete = 0;
  for (const [k, c] of commands.entries()) {
    const next = commands[k + 1]?.t_ms ?? Number.POSITIVE_INFINITY;
    const last = NODES.map(
      (node) =>
        events.find(
          (e) =>
            e.node === node &&
            e.t_ms >= c.t_ms - 1 &&
            e.t_ms < next &&
            (c.heal ? e.action === 'healed' : e.action === 'applied' && e.faultId === c.id),
        )?.t_ms,
    );
    if (last.some((t) => t === undefined)) {
      incomplete++;
      continue;
    }
    (c.heal ? healed : applied).push(Math.max(...(last as number[])) - c.t_ms);
  }
  console.log(summary('agent link rules (local), partition', applied));
  console.log(summary('agent link rules (local), heal', healed));
  if (incomplete > 0)
    console.log(`  (${incomplete} faults without an event from every agent were left out)`);
}

export default async function run(): Promise<void> {
  console.log(`${ROUNDS} partitions (halves of 5 replicas) and ${ROUNDS} heals each`);
  await kernelActuation();
  await agentActuation();
}
