import type { ProtocolEvent } from '../../src-node-agent/core/events';
import type { NodeId } from '../../src-node-agent/core/ids';

/** One protocol event as recorded, stamped with the node that emitted it. */
export interface NodeProtocolEvent {
  readonly node: NodeId;
  readonly event: ProtocolEvent;
}

export type AgreementViolationKind = 'conflict' | 'gap' | 'reexecuted-differently';

export interface AgreementViolation {
  readonly kind: AgreementViolationKind;
  readonly slot: number;
  /** For a conflict, the node that set the slot first and the node that disagreed. */
  readonly nodes: readonly NodeId[];
  readonly detail: string;
}

export interface AgreementResult {
  readonly valid: boolean;
  /** Nodes that executed, installed a snapshot or recovered, sorted. */
  readonly nodes: readonly NodeId[];
  /** Distinct slots some node executed. */
  readonly slotsChecked: number;
  /** Every node has executed (or installed a snapshot covering) every slot up to this one. */
  readonly highestCommonSlot: number;
  /** The first MAX_REPORTED_VIOLATIONS violations, in event order. */
  readonly violations: readonly AgreementViolation[];
  readonly violationCount: number;
}

export const MAX_REPORTED_VIOLATIONS = 20;

interface NodeLog {
  /** Last slot executed or covered by a snapshot; 0 = nothing yet (slots start at 1). */
  position: number;
  /** Everything this node ever executed, so a replay after recovery can be compared. */
  readonly executed: Map<number, string>;
}

/**
 * Agreement and total order over `executed` events (state machine replication safety):
 * - no two nodes execute different commands (digests) in the same slot;
 * - each node executes slots in order without holes: slot = previous + 1, except that a
 *   `snapshot-installed` at S moves it to S, and a `recovered` at X restarts it at X (it
 *   replays from its own snapshot);
 * - a slot a node executes again after recovery has the digest it had the first time.
 * Together these make every node's executed log a prefix of every other's. Other event kinds
 * are ignored.
 */
export function checkAgreement(events: readonly NodeProtocolEvent[]): AgreementResult {
  const logs = new Map<NodeId, NodeLog>();
  const firstExecution = new Map<number, { readonly digest: string; readonly node: NodeId }>();
  const firstSnapshot = new Map<number, { readonly digest: string; readonly node: NodeId }>();
  const violations: AgreementViolation[] = [];
  let violationCount = 0;
  const report = (violation: AgreementViolation): void => {
    violationCount++;
    if (violations.length < MAX_REPORTED_VIOLATIONS) violations.push(violation);
  };

  events.forEach(({ node, event }, index) => {
    if (
      event.kind !== 'executed' &&
      event.kind !== 'snapshot-installed' &&
      event.kind !== 'recovered'
    )
      return;
    if (!Number.isInteger(event.slot) || event.slot < 0) {
      throw new Error(
        `event ${String(index)} (${event.kind} on ${node}): slot ${String(event.slot)} is not a non-negative integer; the recording is corrupt`,
      );
    }
    let log = logs.get(node);
    if (log === undefined) {
      log = { position: 0, executed: new Map() };
      logs.set(node, log);
    }

    if (event.kind === 'recovered') {
      log.position = event.slot;
      return;
    }
    if (event.kind === 'snapshot-installed') {
      // A snapshot is a state digest, comparable only with other snapshots of the same slot.
      const first = firstSnapshot.get(event.slot);
      if (first === undefined) {
        firstSnapshot.set(event.slot, { digest: event.digest, node });
      } else if (first.digest !== event.digest) {
        report({
          kind: 'conflict',
          slot: event.slot,
          nodes: [first.node, node],
          detail: `slot ${String(event.slot)}: ${first.node} installed a snapshot with state digest ${first.digest} but ${node} one with ${event.digest}`,
        });
      }
      log.position = event.slot;
      return;
    }

    const { slot, digest } = event;
    if (slot !== log.position + 1) {
      report({
        kind: 'gap',
        slot,
        nodes: [node],
        detail:
          slot > log.position + 1
            ? `${node} executed slot ${String(slot)} after slot ${String(log.position)}, skipping ${String(slot - log.position - 1)} slot(s) without a snapshot`
            : `${node} executed slot ${String(slot)} after slot ${String(log.position)} without recovering first; each slot is executed once, in order`,
      });
    }
    const before = log.executed.get(slot);
    if (before !== undefined && before !== digest) {
      report({
        kind: 'reexecuted-differently',
        slot,
        nodes: [node],
        detail: `${node} executed slot ${String(slot)} as ${before} but re-executed it as ${digest}`,
      });
    }
    const first = firstExecution.get(slot);
    if (first === undefined) {
      firstExecution.set(slot, { digest, node });
    } else if (first.digest !== digest && first.node !== node) {
      report({
        kind: 'conflict',
        slot,
        nodes: [first.node, node],
        detail: `slot ${String(slot)}: ${first.node} executed ${first.digest} but ${node} executed ${digest}`,
      });
    }
    // Keep the first digest: replays are compared with what the node originally executed.
    if (before === undefined) log.executed.set(slot, digest);
    // Resynchronize on the slot actually executed, so one hole is reported once, not forever.
    log.position = slot;
  });

  let highestCommonSlot = Number.POSITIVE_INFINITY;
  for (const log of logs.values()) highestCommonSlot = Math.min(highestCommonSlot, log.position);
  return {
    valid: violationCount === 0,
    nodes: [...logs.keys()].sort(),
    slotsChecked: firstExecution.size,
    highestCommonSlot: logs.size === 0 ? 0 : highestCommonSlot,
    violations,
    violationCount,
  };
}
