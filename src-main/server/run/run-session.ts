import { relative } from 'node:path';
import { describeFault, type Fault } from '../../../src-node-agent/core/faults';
import type { ApiResult, LiveCheck, RunInfo, RunPhase } from '../../api/api-schema';
import { RunView } from '../../api/run-view';
import type { RunViewSnapshot } from '../../api/run-view-schema';
import type { PreflightResult } from '../../preflight/preflight-result';
import type { RecordedHistoryEntry, RunRecord } from '../../record/schema';
import { ApiCallError } from '../api-error';
import { isTraceGap, MessageRing, messageEventOf, pairMessages } from '../messages/message-pairing';
import type { PushTarget } from '../push-target';
import { LiveChecks } from './live-checks';
import { stacks } from '../../../src-node-agent/stacks';
import type { RunSource, RunSourceOutcome } from './run-source';

/** Record batches go out at most this often per run. */
export const BATCH_INTERVAL_MS = 100;
/** Live checks are re-evaluated and pushed this often. */
export const LIVE_CHECK_INTERVAL_MS = 2_000;
/**
 * Records held between two flushes. Above it (the event loop stalled, or a synthetic flood)
 * the batch is dropped and every subscriber is resynced with a snapshot instead.
 */
export const MAX_BATCH_RECORDS = 50_000;
/** Setup log lines kept per run (the oldest go first). */
export const MAX_SETUP_LOG_LINES = 200;
/** Setup log lines come in bursts (one per host and step): info goes out at most this often. */
export const SETUP_LOG_PUSH_INTERVAL_MS = 250;

interface Subscriber {
  readonly target: PushTarget;
  /** Batches were dropped for it; the next push carries a fresh snapshot. */
  resync: boolean;
}

export interface RunSessionOptions {
  readonly runsDir: string;
  /** Every phase or info change (the registry broadcasts it to every connection). */
  readonly onInfo: (info: RunInfo) => void;
}

/**
 * One live run as the dashboard sees it: folds the source's records into a RunView (the
 * snapshot late subscribers start from), sends record batches to subscribers every ~100 ms,
 * evaluates live checks every ~2 s, keeps the recent message trace, and at the end pushes the
 * final checks. Slow subscribers are coalesced: batches are dropped for them and a snapshot
 * follows once their socket drains, so no buffer grows without bound.
 */
export class RunSession {
  readonly view: RunView;
  private phase: RunPhase = 'starting';
  private readonly startedAt = new Date().toISOString();
  private recordingId: string | null = null;
  private readonly notices: string[] = [];
  private readonly problems: string[] = [];
  private preflight: PreflightResult | null = null;
  private readonly setupLog: string[] = [];
  private infoTimer: NodeJS.Timeout | null = null;
  private batch: RunRecord[] = [];
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly checks: LiveChecks;
  private lastChecks: LiveCheck[] = [];
  readonly messages = new MessageRing();
  private readonly timers: NodeJS.Timeout[] = [];
  private startMs = 0;
  /** Resolves once the run has ended or failed, and its final checks are out. */
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;

  constructor(
    readonly source: RunSource,
    private readonly options: RunSessionOptions,
  ) {
    this.view = new RunView(source.nodes);
    this.checks = new LiveChecks(
      new Set(source.nodes.filter((n) => n.role === 'workload').map((n) => n.id)),
    );
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get runId(): string {
    return this.source.runId;
  }

  get currentPhase(): RunPhase {
    return this.phase;
  }

  info(): RunInfo {
    const s = this.source;
    return {
      runId: s.runId,
      name: s.name,
      stack: s.stack,
      testbed: s.testbed,
      phase: this.phase,
      startedAt: this.startedAt,
      duration_ms: s.duration_ms,
      nodes: s.nodes.map((n) => ({ ...n })),
      recordingId: this.recordingId,
      notices: [...this.notices],
      problems: [...this.problems],
      byzantineBehaviours: [...(stacks.get(s.stack)?.byzantineBehaviours ?? [])],
      setupLog: [...this.setupLog],
      preflight: this.preflight,
    };
  }

  /** Start the run in the background; `done` tells when it is over. */
  start(): void {
    this.startMs = performance.now();
    this.timers.push(setInterval(() => this.flush(), BATCH_INTERVAL_MS));
    this.timers.push(setInterval(() => this.pushLiveChecks(), LIVE_CHECK_INTERVAL_MS));
    void this.runToEnd();
  }

  subscribe(target: PushTarget): ApiResult<'run.subscribe'> {
    // Send what is pending to existing subscribers first, so the snapshot is exactly the
    // state before the next batch this subscriber receives.
    this.flush();
    this.subscribers.set(target.id, { target, resync: false });
    const snapshot = this.view.snapshot();
    return { info: this.info(), snapshot };
  }

  unsubscribe(targetId: string): void {
    this.subscribers.delete(targetId);
  }

  fault(fault: Fault): { label: string } {
    if (this.phase !== 'running') {
      throw new ApiCallError(
        'conflict',
        `run ${this.runId} is ${this.phase}; faults can be injected only while it is running`,
      );
    }
    return { label: this.source.fault(fault) };
  }

  stop(reason: string): void {
    if (this.phase === 'ended' || this.phase === 'failed') return;
    if (this.phase === 'starting' || this.phase === 'running') this.setPhase('stopping');
    this.source.stop(reason);
  }

  messageWindow(from_ms: number, to_ms: number, limit: number): ApiResult<'messages.window'> {
    const { messages, truncated } = pairMessages(this.messages.events(), from_ms, to_ms, limit);
    const oldest = this.messages.oldest_ms();
    // Messages older than the ring's oldest were pushed out: that is a gap in what we can show.
    const cutOff = this.messages.overwritten > 0 && oldest !== null && from_ms < oldest ? 1 : 0;
    return {
      messages,
      truncated,
      traced: this.view.countsSoFar().messagesTraced > 0,
      gaps: this.messages.gaps + cutOff,
    };
  }

  // ------------------------------------------------------------------ source events

  private async runToEnd(): Promise<void> {
    let outcome: RunSourceOutcome | null = null;
    try {
      outcome = await this.source.run({
        record: (r) => this.onRecord(r),
        history: (e) => this.onHistory(e),
        recordingOpened: (dir) => {
          this.recordingId = relative(this.options.runsDir, dir);
          this.emitInfo();
        },
        running: () => this.setPhase('running'),
        stopping: () => {
          if (this.phase === 'starting' || this.phase === 'running') this.setPhase('stopping');
        },
        notice: (text) => {
          this.notices.push(text);
          this.emitInfo();
        },
        setupLog: (line) => {
          this.setupLog.push(line);
          if (this.setupLog.length > MAX_SETUP_LOG_LINES) this.setupLog.shift();
          this.emitInfoSoon();
        },
        preflight: (result) => {
          this.preflight = result;
          this.emitInfo();
        },
      });
      this.problems.push(...outcome.problems);
    } catch (err) {
      this.problems.push(err instanceof Error ? err.message : String(err));
    }
    this.flush();
    this.stopTimers();
    if (outcome === null) {
      this.setPhase('failed');
    } else {
      this.setPhase('checking');
      try {
        const final = await this.source.check(outcome);
        this.view.setChecks(final);
        this.lastChecks = final;
        this.pushToSubscribers({ push: 'checks', runId: this.runId, checks: final });
      } catch (err) {
        this.problems.push(`checking the recording failed: ${(err as Error).message}`);
      }
      this.setPhase('ended');
    }
    this.subscribers.clear();
    this.resolveDone();
  }

  private onRecord(record: RunRecord): void {
    this.view.apply(record);
    this.checks.onRecord(record);
    const message = messageEventOf(record);
    if (message !== null) this.messages.push(message);
    else if (isTraceGap(record)) this.messages.gaps++;
    if (this.subscribers.size === 0) return;
    if (this.batch.length >= MAX_BATCH_RECORDS) {
      this.batch = [];
      for (const s of this.subscribers.values()) s.resync = true;
      return;
    }
    this.batch.push(record);
  }

  private onHistory(entry: RecordedHistoryEntry): void {
    this.checks.onHistory(entry);
  }

  // ------------------------------------------------------------------ pushes

  /** Send the pending batch (or a resync snapshot) to every subscriber. */
  flush(): void {
    const records = this.batch;
    this.batch = [];
    let snapshot: RunViewSnapshot | null = null;
    for (const s of this.subscribers.values()) {
      if (s.target.congested()) {
        if (records.length > 0) s.resync = true;
        continue;
      }
      if (s.resync) {
        snapshot ??= this.view.snapshot();
        s.resync = false;
        s.target.push({
          push: 'records',
          stream: { kind: 'run', runId: this.runId },
          records: [],
          snapshot,
        });
      } else if (records.length > 0) {
        s.target.push({ push: 'records', stream: { kind: 'run', runId: this.runId }, records });
      }
    }
  }

  private pushLiveChecks(): void {
    if (this.phase !== 'running' && this.phase !== 'stopping') return;
    const active = this.view.activeFaults().map((f) => f.label);
    this.lastChecks = this.checks.evaluate(this.view.time_ms, active);
    this.view.setChecks(this.lastChecks);
    this.pushToSubscribers({ push: 'checks', runId: this.runId, checks: this.lastChecks });
  }

  private pushToSubscribers(message: Parameters<PushTarget['push']>[0]): void {
    for (const s of this.subscribers.values()) s.target.push(message);
  }

  private setPhase(phase: RunPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.emitInfo();
  }

  private emitInfo(): void {
    if (this.infoTimer !== null) {
      clearTimeout(this.infoTimer);
      this.infoTimer = null;
    }
    this.options.onInfo(this.info());
  }

  /** One info push for a burst of changes (the next emitInfo carries them anyway). */
  private emitInfoSoon(): void {
    this.infoTimer ??= setTimeout(() => {
      this.infoTimer = null;
      this.emitInfo();
    }, SETUP_LOG_PUSH_INTERVAL_MS);
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  /** Server shutdown: stop the run and wait for it (faults healed, agents stopped). */
  async shutdown(reason: string): Promise<void> {
    this.stop(reason);
    await this.done;
  }

  elapsed_ms(): number {
    return this.startMs === 0 ? 0 : performance.now() - this.startMs;
  }
}

export function faultLabel(fault: Fault): string {
  return describeFault(fault);
}
