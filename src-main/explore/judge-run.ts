import type { SimRunResult } from '../../src-node-agent/sim/run';
import { checkAgreement, type NodeProtocolEvent } from '../check/agreement';
import { kvModel } from '../check/kv-model';
import { checkLinearizability, type LinearizabilityVerdict } from '../check/linearizability';

export interface RunVerdict {
  readonly ok: boolean;
  /** One line per failed check, naming the check. */
  readonly failures: readonly string[];
  readonly linearizability: LinearizabilityVerdict;
  readonly agreementSlots: number;
  readonly recovery_ms: number | null;
}

export interface JudgeOptions {
  readonly linearizabilityBudget_ms?: number;
}

/** Every check FaultLab knows, over one simulated run: invariants, agreement,
 * linearizability, and progress after the heal. */
export function judgeRun(result: SimRunResult, options: JudgeOptions = {}): RunVerdict {
  const failures: string[] = [];
  if (result.invariantViolation !== null) {
    failures.push(`invariant ${result.invariantViolation}`);
  }
  const events: NodeProtocolEvent[] = [];
  for (const r of result.log)
    if (r.type === 'protocol') events.push({ node: r.node, event: r.event });
  const agreement = checkAgreement(events);
  if (!agreement.valid) {
    const first = agreement.violations[0];
    failures.push(
      `agreement: ${agreement.violationCount} violation(s); first: ${first?.kind ?? '?'} at slot ` +
        `${first?.slot ?? '?'}: ${first?.detail ?? ''}`,
    );
  }
  const lin = checkLinearizability(result.history, kvModel, {
    budget_ms: options.linearizabilityBudget_ms ?? 5_000,
  });
  if (lin.verdict === 'not-linearizable') {
    failures.push(`linearizability: ${lin.failure?.explanation ?? 'not linearizable'}`);
  }
  // After a safety violation the run stops early; its missing progress is not news.
  if (result.liveness.recovery_ms === null && result.invariantViolation === null) {
    failures.push(
      `liveness: after the heal at ${result.liveness.heal_ms} ms not every client completed a new ` +
        `operation by ${result.end_ms} ms`,
    );
  }
  return {
    ok: failures.length === 0,
    failures,
    linearizability: lin.verdict,
    agreementSlots: agreement.slotsChecked,
    recovery_ms: result.liveness.recovery_ms,
  };
}
