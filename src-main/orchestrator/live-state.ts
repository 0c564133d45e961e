import type { AgentEvent } from '../../src-node-agent/control/frames';
import type { HistoryEntry } from '../../src-node-agent/core/history';
import type { NodeId } from '../../src-node-agent/core/ids';

type Metrics = Extract<AgentEvent, { kind: 'metrics' }>;

/** Bound on slots remembered for the live agreement check; older slots are pruned. */
const MAX_TRACKED_SLOTS = 200_000;

/**
 * What the orchestrator knows while a run is going: the current leader, throughput and tail
 * latency from the workload agent's metrics, and a live agreement check (the same slot must
 * execute the same command everywhere) so a violation shows up the moment it happens.
 */
export class LiveState {
  leader: NodeId | null = null;
  private leaderView = -1;
  opsPerSecond = 0;
  p99_us: number | null = null;
  completedOps = 0;
  private readonly slotDigests = new Map<number, { digest: string; node: NodeId }>();
  private lowestTracked = 1;
  agreementViolation: string | null = null;
  executedSlots = 0;

  constructor(private readonly workloadNode: NodeId) {}

  onProtocol(node: NodeId, event: { kind: string } & Record<string, unknown>): void {
    // Paxos reports leader-elected; PBFT reports the primary with view-installed.
    if (
      (event.kind === 'leader-elected' || event.kind === 'view-installed') &&
      typeof event['view'] === 'number'
    ) {
      if (event['view'] >= this.leaderView) {
        this.leaderView = event['view'];
        this.leader = String(event['leader']);
      }
    } else if (event.kind === 'executed' && typeof event['slot'] === 'number') {
      this.checkSlot(node, event['slot'], String(event['digest']));
    }
  }

  onHistory(entry: HistoryEntry): void {
    if (entry.type === 'ok') this.completedOps++;
  }

  onMetrics(node: NodeId, m: Metrics): void {
    if (node !== this.workloadNode) return;
    this.opsPerSecond = m.interval_ms > 0 ? (m.ops * 1000) / m.interval_ms : 0;
    this.p99_us = m.latency_us?.p99 ?? null;
  }

  agreementSummary(): string {
    return this.agreementViolation !== null
      ? `VIOLATED: ${this.agreementViolation}`
      : `ok (${this.executedSlots} slots)`;
  }

  private checkSlot(node: NodeId, slot: number, digest: string): void {
    if (slot < this.lowestTracked) return;
    const seen = this.slotDigests.get(slot);
    if (seen === undefined) {
      this.slotDigests.set(slot, { digest, node });
      this.executedSlots = Math.max(this.executedSlots, slot);
      if (this.slotDigests.size > MAX_TRACKED_SLOTS) this.prune();
    } else if (seen.digest !== digest && this.agreementViolation === null) {
      this.agreementViolation = `slot ${slot}: ${seen.node} executed ${seen.digest}, ${node} executed ${digest}`;
    }
  }

  private prune(): void {
    const cut = this.executedSlots - MAX_TRACKED_SLOTS / 2;
    for (const slot of this.slotDigests.keys()) if (slot < cut) this.slotDigests.delete(slot);
    this.lowestTracked = Math.max(this.lowestTracked, cut);
  }
}
