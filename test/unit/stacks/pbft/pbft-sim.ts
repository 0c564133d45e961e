import type { TimedFault } from '../../../../src-node-agent/core/faults';
import type { KvOp, KvOutput } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { pbftStack } from '../../../../src-node-agent/stacks/pbft';
import { kvWorkload } from '../../../../src-node-agent/sim/kv-workload';
import { Simulator } from '../../../../src-node-agent/sim/simulator';
import { checkAgreement, type NodeProtocolEvent } from '../../../../src-main/check/agreement';
import { kvModel } from '../../../../src-main/check/kv-model';
import { checkLinearizability } from '../../../../src-main/check/linearizability';

export interface PbftSimOptions {
  nodes?: number;
  clients?: number;
  seed?: number;
  params?: Record<string, unknown>;
  faults?: TimedFault[];
  thinkTime_ms?: number;
  keys?: number;
  validateMessages?: boolean;
}

/** A PBFT cluster in the simulator with an explicit fault script (no random nemesis). */
export function pbftSim(o: PbftSimOptions = {}): Simulator<KvOp, KvOutput> {
  const sim = new Simulator<KvOp, KvOutput>({
    stack: pbftStack,
    config: pbftStack.configSchema.parse(o.params ?? {}),
    nodes: o.nodes ?? 4,
    clients: o.clients ?? 3,
    seed: o.seed ?? 1,
    workload: kvWorkload({ keys: o.keys ?? 3 }),
    thinkTime_us: (o.thinkTime_ms ?? 2) * 1000,
    invariantInterval_us: 5_000,
    validateMessages: o.validateMessages,
  });
  sim.scheduleFaults(o.faults ?? []);
  return sim;
}

export function protocolEvents(sim: Simulator<KvOp, KvOutput>): NodeProtocolEvent[] {
  const out: NodeProtocolEvent[] = [];
  for (const r of sim.log) if (r.type === 'protocol') out.push({ node: r.node, event: r.event });
  return out;
}

/** Safety verdict: the live invariant, agreement among correct replicas, linearizability. */
export function safetyProblem(sim: Simulator<KvOp, KvOutput>): string | null {
  sim.closeHistory();
  if (sim.violation !== null) return `invariant violated: ${sim.violation}`;
  const agreement = checkAgreement(protocolEvents(sim));
  if (!agreement.valid) return `agreement violated: ${JSON.stringify(agreement.violations[0])}`;
  const lin = checkLinearizability(sim.history, kvModel, { budget_ms: 10_000 });
  if (lin.verdict !== 'linearizable') {
    return `history is ${lin.verdict}: ${lin.failure?.explanation ?? lin.unknownReason ?? ''}`;
  }
  return null;
}

export function expectSafe(sim: Simulator<KvOp, KvOutput>): void {
  const problem = safetyProblem(sim);
  if (problem !== null) throw new Error(problem);
}

/** Client operations that completed within [from_ms, to_ms). */
export function completedBetween(
  sim: Simulator<KvOp, KvOutput>,
  from_ms: number,
  to_ms: number,
): number {
  return sim.history.filter(
    (h) => h.type === 'ok' && h.time_us >= from_ms * 1000 && h.time_us < to_ms * 1000,
  ).length;
}

export function behaviourEvents(sim: Simulator<KvOp, KvOutput>, name: string): number {
  return protocolEvents(sim).filter((e) => e.event.kind === 'behaviour' && e.event.name === name)
    .length;
}

/** The seed for a randomized test: SEED from the environment, or the default; printed. */
export function testSeed(fallback: number, label: string): number {
  const fromEnv = process.env['SEED'];
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : fallback;
  console.log(`${label}: seed=${seed} (reproduce with SEED=${seed})`);
  return seed;
}
