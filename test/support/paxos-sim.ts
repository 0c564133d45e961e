import type { TimedFault } from '../../src-node-agent/core/faults';
import type { KvOp, KvOutput } from '../../src-node-agent/stacks/kv/kv-ops';
import { paxosStack } from '../../src-node-agent/stacks/paxos';
import { kvWorkload } from '../../src-node-agent/sim/kv-workload';
import { Simulator } from '../../src-node-agent/sim/simulator';
import { checkAgreement, type NodeProtocolEvent } from '../../src-main/check/agreement';
import { kvModel } from '../../src-main/check/kv-model';
import { checkLinearizability } from '../../src-main/check/linearizability';

export interface PaxosSimOptions {
  nodes?: number;
  clients?: number;
  seed?: number;
  params?: Record<string, unknown>;
  faults?: TimedFault[];
  thinkTime_ms?: number;
  keys?: number;
  validateMessages?: boolean;
}

/** A Paxos cluster in the simulator with an explicit fault script (no random nemesis). */
export function paxosSim(o: PaxosSimOptions = {}): Simulator<KvOp, KvOutput> {
  const seed = o.seed ?? 1;
  const sim = new Simulator<KvOp, KvOutput>({
    stack: paxosStack,
    config: paxosStack.configSchema.parse(o.params ?? {}),
    nodes: o.nodes ?? 5,
    clients: o.clients ?? 3,
    seed,
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

/** Agreement, linearizability and the live invariants all hold. */
export function expectSafe(sim: Simulator<KvOp, KvOutput>): { agreementSlots: number } {
  sim.closeHistory();
  if (sim.violation !== null) throw new Error(`invariant violated: ${sim.violation}`);
  const agreement = checkAgreement(protocolEvents(sim));
  if (!agreement.valid)
    throw new Error(`agreement violated: ${JSON.stringify(agreement.violations[0])}`);
  const lin = checkLinearizability(sim.history, kvModel, { budget_ms: 10_000 });
  if (lin.verdict !== 'linearizable') {
    throw new Error(
      `history is ${lin.verdict}: ${lin.failure?.explanation ?? lin.unknownReason ?? ''}`,
    );
  }
  return { agreementSlots: agreement.slotsChecked };
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
