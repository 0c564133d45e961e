import type { HistoryEntry } from '../../../src-node-agent/core/history';
import { kvOpSchema, type KvOp, type KvOutput } from '../../../src-node-agent/stacks/kv/kv-ops';
import { checkLinearizability } from '../../check/linearizability';
import { kvModel } from '../../check/kv-model';
import { LiveState } from '../../orchestrator/live-state';
import type { CheckResult, RecordedHistoryEntry, RunRecord } from '../../record/schema';

/** Beyond this many operations the live linearizability check stops growing its history. */
export const MAX_LIVE_LINEARIZABLE_OPS = 100_000;
/** Time the live search may take per round; it blocks the event loop, so it stays short. */
export const LIVE_LINEARIZABILITY_BUDGET_MS = 250;
/** Window for "is the cluster making progress". */
export const PROGRESS_WINDOW_MS = 3_000;

/**
 * The verdicts a live run shows while it goes (the full checks run on the recording at the
 * end): agreement (same slot, same command everywhere, via LiveState), progress (client
 * operations completed in the last few seconds, noting an active fault) and linearizable so
 * far (the project's checker on the history received up to now, while it is small enough).
 */
export class LiveChecks {
  private readonly live = new LiveState('w1');
  private readonly history: RecordedHistoryEntry[] = [];
  private invokes = 0;
  private historyFull = false;
  private checkedLength = 0;
  private lastLinearizable: CheckResult | null = null;
  private notKv: string | null = null;
  /** Workload metrics of the last PROGRESS_WINDOW_MS: [t_ms, ops]. Bounded by the window. */
  private readonly recentOps: [number, number][] = [];
  private latest_ms = 0;
  /** When the workload's first metrics arrived: a full window must pass before a stall fails. */
  private firstMetrics_ms: number | null = null;

  constructor(private readonly workloadNodes: ReadonlySet<string>) {}

  onRecord(record: RunRecord): void {
    if (record.t_ms > this.latest_ms) this.latest_ms = record.t_ms;
    if (record.type === 'protocol') {
      this.live.onProtocol(record.node, record.event);
    } else if (record.type === 'metrics' && this.workloadNodes.has(record.node)) {
      this.firstMetrics_ms ??= record.t_ms;
      this.recentOps.push([record.t_ms, record.ops]);
      const cut = this.latest_ms - PROGRESS_WINDOW_MS;
      while (this.recentOps.length > 0 && (this.recentOps[0]?.[0] ?? 0) < cut) {
        this.recentOps.shift();
      }
    }
  }

  onHistory(entry: RecordedHistoryEntry): void {
    if (this.historyFull) return;
    if (entry.type === 'invoke') {
      if (this.invokes >= MAX_LIVE_LINEARIZABLE_OPS) {
        this.historyFull = true;
        return;
      }
      this.invokes++;
      if (this.notKv === null && !kvOpSchema.safeParse(entry.op).success) {
        this.notKv = `op ${entry.opId} of ${entry.process} is not a key-value operation`;
      }
    }
    this.history.push(entry);
  }

  /** The current verdicts; `activeFaults` names faults in force (for the progress note). */
  evaluate(now_ms: number, activeFaults: readonly string[]): CheckResult[] {
    return [this.agreement(), this.progress(now_ms, activeFaults), this.linearizable()];
  }

  private agreement(): CheckResult {
    const violation = this.live.agreementViolation;
    if (violation !== null) {
      return { name: 'agreement', verdict: 'fail', detail: `so far: ${violation}` };
    }
    return {
      name: 'agreement',
      verdict: 'pass',
      detail:
        this.live.executedSlots === 0
          ? 'nothing executed yet'
          : `so far: every node that executed a slot executed the same command (${this.live.executedSlots} slots)`,
      measured: this.live.executedSlots,
    };
  }

  private progress(now_ms: number, activeFaults: readonly string[]): CheckResult {
    const ops = this.recentOps.reduce((sum, [, n]) => sum + n, 0);
    const window = `${(PROGRESS_WINDOW_MS / 1000).toFixed(0)} s`;
    const during = activeFaults.length > 0 ? ` while ${activeFaults.join(', ')} is active` : '';
    if (this.recentOps.length === 0 && now_ms < PROGRESS_WINDOW_MS + 2_000) {
      return { name: 'progress', verdict: 'unknown', detail: 'waiting for the workload to start' };
    }
    if (
      ops === 0 &&
      this.firstMetrics_ms !== null &&
      now_ms < this.firstMetrics_ms + PROGRESS_WINDOW_MS
    ) {
      return {
        name: 'progress',
        verdict: 'unknown',
        detail: `the workload started less than ${window} ago; waiting for its first operations`,
      };
    }
    if (ops > 0) {
      return {
        name: 'progress',
        verdict: 'pass',
        detail: `${ops} operations completed in the last ${window}${during}`,
        measured: ops,
      };
    }
    return {
      // A stall during a fault is what the lab is probing; only a stall without one is a fail.
      name: 'progress',
      verdict: activeFaults.length > 0 ? 'unknown' : 'fail',
      detail: `no operation completed in the last ${window}${during}`,
      measured: 0,
    };
  }

  private linearizable(): CheckResult {
    const name = 'linearizable';
    if (this.notKv !== null) {
      return { name, verdict: 'unknown', detail: `cannot check: ${this.notKv}` };
    }
    if (this.history.length === 0) {
      return { name, verdict: 'unknown', detail: 'no client operations yet' };
    }
    if (this.history.length === this.checkedLength && this.lastLinearizable !== null) {
      return this.lastLinearizable;
    }
    if (this.lastLinearizable?.verdict === 'fail') return this.lastLinearizable;
    if (this.historyFull && this.lastLinearizable !== null) return this.lastLinearizable;
    this.checkedLength = this.history.length;
    const upTo = this.historyFull
      ? ` (checked up to ${this.invokes} ops; the full check runs at the end)`
      : '';
    try {
      const result = checkLinearizability(
        this.history as readonly HistoryEntry<KvOp, KvOutput>[],
        kvModel,
        { budget_ms: LIVE_LINEARIZABILITY_BUDGET_MS },
      );
      const size = `${result.operations} operations so far`;
      this.lastLinearizable =
        result.verdict === 'linearizable'
          ? { name, verdict: 'pass', detail: `${size}: linearizable${upTo}` }
          : result.verdict === 'not-linearizable'
            ? {
                name,
                verdict: 'fail',
                detail: `${size}: NOT linearizable on key ${result.failure?.partition ?? '?'}:\n${result.failure?.explanation ?? ''}`,
              }
            : {
                name,
                verdict: 'unknown',
                detail: `${size}: undecided within ${LIVE_LINEARIZABILITY_BUDGET_MS} ms (${result.unknownReason ?? 'budget'}); the full check runs at the end${upTo}`,
              };
    } catch (err) {
      this.lastLinearizable = {
        name,
        verdict: 'unknown',
        detail: `the history so far cannot be judged: ${(err as Error).message}`,
      };
    }
    return this.lastLinearizable;
  }
}
