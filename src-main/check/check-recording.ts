import { describeFault, type Fault } from '../../src-node-agent/core/faults';
import type { ProtocolEvent } from '../../src-node-agent/core/events';
import type { HistoryEntry } from '../../src-node-agent/core/history';
import { kvOpSchema, type KvOp, type KvOutput } from '../../src-node-agent/stacks/kv/kv-ops';
import { formatDuration } from '../labs/duration';
import { resolveThresholds, type LabConfig } from '../labs/lab-schema';
import type { Recording } from '../record/recording-reader';
import {
  RECORDING_SCHEMA_VERSION,
  type CheckReport,
  type CheckResult,
  type RunRecord,
} from '../record/schema';
import { checkAgreement, type NodeProtocolEvent } from './agreement';
import { checkLinearizability, DEFAULT_LINEARIZABILITY_BUDGET_MS } from './linearizability';
import { kvModel } from './kv-model';

export interface CheckRecordingOptions {
  readonly linearizabilityBudget_ms?: number;
  /** ISO time stamped on the report; now by default. */
  readonly checkedAt?: string;
}

export type CheckableRecording = Pick<Recording, 'manifest' | 'records' | 'history'>;

/** Fault kinds that can stop a cluster from committing until it elects or reroutes. */
const DISRUPTIVE: ReadonlySet<Fault['type']> = new Set([
  'crash',
  'pause',
  'partition',
  'cut',
  'degrade',
]);

/** A fault after which the cluster must commit again within the lab's bound. */
function isDisruptive(fault: Fault): boolean {
  // A replica turning Byzantine (a lying primary) stalls commits until a view change; turning
  // honest again does not.
  if (fault.type === 'byzantine') return fault.behaviour !== null;
  return DISRUPTIVE.has(fault.type);
}

const MAX_LISTED = 20;

/**
 * Judge a recorded run against its lab (a pure function of the recording, apart from the
 * linearizability search's time budget): linearizability of the client history, agreement of
 * the executed logs, progress after each disruptive fault, throughput, and the integrity of
 * every agent's event numbering (a gap or duplicate means the recording itself lost or
 * doubled something, so the other verdicts stand on sand).
 */
export function checkRecording(
  rec: CheckableRecording,
  lab: LabConfig,
  options: CheckRecordingOptions = {},
): CheckReport {
  const checks: CheckResult[] = [];
  if (lab.checks.linearizable) {
    checks.push(
      checkLinearizable(rec, options.linearizabilityBudget_ms ?? DEFAULT_LINEARIZABILITY_BUDGET_MS),
    );
  }
  if (lab.checks.agreement) checks.push(checkAgreementOf(rec));
  const thresholds = resolveThresholds(lab);
  if (thresholds.progressAfterFault_ms !== null) {
    checks.push(checkProgressAfterFault(rec, lab, thresholds.progressAfterFault_ms));
  }
  if (thresholds.minThroughput_per_s !== null) {
    checks.push(checkMinThroughput(rec, lab, thresholds.minThroughput_per_s));
  }
  checks.push(checkSequenceIntegrity(rec));
  const verdict = checks.some((c) => c.verdict === 'fail')
    ? 'fail'
    : checks.some((c) => c.verdict === 'unknown')
      ? 'unknown'
      : 'pass';
  return {
    schema: RECORDING_SCHEMA_VERSION,
    verdict,
    checkedAt: options.checkedAt ?? new Date().toISOString(),
    checks,
  };
}

// ------------------------------------------------------------------ linearizable

function checkLinearizable(rec: CheckableRecording, budget_ms: number): CheckResult {
  const name = 'linearizable';
  for (const [index, entry] of rec.history.entries()) {
    if (entry.type !== 'invoke') continue;
    if (!kvOpSchema.safeParse(entry.op).success) {
      return {
        name,
        verdict: 'unknown',
        detail: `history entry ${String(index + 1)} (op ${String(entry.opId)} of ${entry.process}) is not a key-value operation: ${JSON.stringify(entry.op)?.slice(0, 120) ?? ''}`,
        measured: null,
        threshold: null,
      };
    }
  }
  const history = rec.history as readonly HistoryEntry<KvOp, KvOutput>[];
  let result: ReturnType<typeof checkLinearizability<unknown, KvOp, KvOutput>>;
  try {
    result = checkLinearizability(history, kvModel, { budget_ms });
  } catch (err) {
    return {
      name,
      verdict: 'unknown',
      detail: `the history cannot be judged: ${err instanceof Error ? err.message : String(err)}`,
      measured: null,
      threshold: null,
    };
  }
  const size = `${String(result.operations)} operations on ${String(result.partitions)} key(s)`;
  switch (result.verdict) {
    case 'linearizable':
      return {
        name,
        verdict: 'pass',
        detail: `${size}: linearizable (checked in ${result.elapsed_ms.toFixed(0)} ms)`,
        measured: null,
        threshold: null,
      };
    case 'not-linearizable': {
      const failure = result.failure;
      return {
        name,
        verdict: 'fail',
        detail:
          `${size}: NOT linearizable on key ${failure?.partition ?? '?'}; ` +
          `minimal failing sub-history of ${String(failure?.minimalHistory.length ?? 0)} entries:\n` +
          (failure?.explanation ?? ''),
        measured: null,
        threshold: null,
      };
    }
    case 'unknown':
      return {
        name,
        verdict: 'unknown',
        detail: `${size}: undecided, ${result.unknownReason ?? 'time budget exhausted'}`,
        measured: null,
        threshold: null,
      };
  }
}

// ------------------------------------------------------------------ agreement

function checkAgreementOf(rec: CheckableRecording): CheckResult {
  const name = 'agreement';
  const events: NodeProtocolEvent[] = [];
  for (const record of rec.records) {
    if (record.type === 'protocol') {
      events.push({ node: record.node, event: record.event as unknown as ProtocolEvent });
    }
  }
  let result: ReturnType<typeof checkAgreement>;
  try {
    result = checkAgreement(events);
  } catch (err) {
    return {
      name,
      verdict: 'unknown',
      detail: `the executed events cannot be judged: ${err instanceof Error ? err.message : String(err)}`,
      measured: null,
      threshold: 0,
    };
  }
  if (result.valid) {
    return {
      name,
      verdict: 'pass',
      detail:
        result.slotsChecked === 0
          ? 'no node executed anything, so nothing can disagree'
          : `${String(result.nodes.length)} nodes agree on ${String(result.slotsChecked)} executed slots; every node executed slots 1..${String(result.highestCommonSlot)}`,
      measured: 0,
      threshold: 0,
    };
  }
  const shown = result.violations.slice(0, 5).map((v) => v.detail);
  const more = result.violationCount - shown.length;
  return {
    name,
    verdict: 'fail',
    detail:
      `${String(result.violationCount)} violation(s) of agreement over ${String(result.slotsChecked)} slots: ` +
      shown.join('; ') +
      (more > 0 ? `; and ${String(more)} more` : ''),
    measured: result.violationCount,
    threshold: 0,
  };
}

// ------------------------------------------------------------------ progress after fault

/** The recording's end: the manifest's duration, else the last thing recorded. */
function endOf(rec: CheckableRecording): number {
  if (rec.manifest.duration_ms !== undefined) return rec.manifest.duration_ms;
  let end = 0;
  for (const r of rec.records) end = Math.max(end, r.t_ms);
  for (const h of rec.history) end = Math.max(end, h.time_us / 1_000);
  return end;
}

/** Replicas a fault takes out of the cluster: the crashed or paused node, a partition's minority. */
function disabledBy(fault: Fault): Set<string> {
  if (fault.type === 'crash' || fault.type === 'pause') return new Set([fault.node]);
  if (fault.type === 'partition') {
    const all = new Set(fault.groups.flat());
    const majority = Math.floor(all.size / 2) + 1;
    const live = new Set(fault.groups.filter((g) => g.length >= majority).flat());
    return new Set(Array.from(all).filter((n) => !live.has(n)));
  }
  return new Set();
}

function checkProgressAfterFault(
  rec: CheckableRecording,
  lab: LabConfig,
  threshold_ms: number,
): CheckResult {
  const name = 'progress-after-fault';
  const commits: { t_ms: number; node: string }[] = [];
  const disruptions: Extract<RunRecord, { type: 'fault' }>[] = [];
  for (const record of rec.records) {
    if (record.type === 'protocol' && record.event.kind === 'committed') {
      commits.push({ t_ms: record.t_ms, node: record.node });
    }
    if (record.type === 'fault' && record.phase === 'applied' && isDisruptive(record.fault)) {
      disruptions.push(record);
    }
  }
  commits.sort((a, b) => a.t_ms - b.t_ms);
  const end_ms = endOf(rec);
  const progress = lab.checks.progressAfterFault;
  const bound =
    progress !== null && 'electionTimeouts' in progress
      ? `${formatDuration(threshold_ms)} = ${String(progress.electionTimeouts)} election timeouts`
      : formatDuration(threshold_ms);

  if (disruptions.length === 0) {
    const expected = lab.faults.length > 0 || lab.nemesis !== null;
    return {
      name,
      verdict: expected ? 'unknown' : 'pass',
      detail: expected
        ? 'no disruptive fault (crash, pause, partition, cut, degrade, byzantine) was applied, so recovery could not be measured; see the fault records for ones that failed'
        : 'the lab applies no disruptive fault',
      measured: null,
      threshold: threshold_ms,
    };
  }

  interface Gap {
    readonly what: string;
    /** Until the first commit; or, when none followed, until the end of the recording. */
    readonly gap_ms: number | null;
    readonly committed: boolean;
    readonly verdict: 'pass' | 'fail' | 'unmeasurable';
  }
  const gaps: Gap[] = disruptions.map((record) => {
    const what = `${describeFault(record.fault)} at ${formatDuration(record.t_ms)}`;
    // Progress means the surviving replicas commit: a commit by the node the fault took out
    // (e.g. the leader finishing a slot while its SIGKILL is on the way) does not count.
    const disabled = disabledBy(record.fault);
    const next = commits.find((c) => c.t_ms > record.t_ms && !disabled.has(c.node))?.t_ms ?? null;
    if (next !== null) {
      const gap_ms = next - record.t_ms;
      return { what, gap_ms, committed: true, verdict: gap_ms <= threshold_ms ? 'pass' : 'fail' };
    }
    // No commit before the end: a failure if the run lasted longer than the limit after it.
    const remaining_ms = end_ms - record.t_ms;
    return remaining_ms > threshold_ms
      ? { what, gap_ms: remaining_ms, committed: false, verdict: 'fail' }
      : { what, gap_ms: null, committed: false, verdict: 'unmeasurable' };
  });

  const measured = gaps.filter((g) => g.gap_ms !== null);
  const worst = measured.reduce<Gap | null>(
    (w, g) => (w === null || (g.gap_ms as number) > (w.gap_ms as number) ? g : w),
    null,
  );
  const failed = gaps.filter((g) => g.verdict === 'fail').length;
  const list = gaps.slice(0, MAX_LISTED).map((g) => {
    if (g.gap_ms === null) return `${g.what}: run ended before the limit, no commit`;
    const took = g.committed
      ? formatDuration(g.gap_ms)
      : `no commit in the ${formatDuration(g.gap_ms)} until the end`;
    return `${g.what}: ${took}${g.verdict === 'fail' ? ' (over the limit)' : ''}`;
  });
  const more = gaps.length > MAX_LISTED ? `; and ${String(gaps.length - MAX_LISTED)} more` : '';
  const verdict = failed > 0 ? 'fail' : worst === null ? 'unknown' : 'pass';
  const headline =
    worst === null
      ? `no commit was recorded after any of ${String(gaps.length)} disruptive faults before the run ended`
      : `worst: ${formatDuration(worst.gap_ms as number)} until the first commit after ${worst.what} ` +
        `(limit ${bound}); ${String(failed)} of ${String(gaps.length)} disruptive faults over the limit`;
  return {
    name,
    verdict,
    detail: `${headline}. ${list.join('; ')}${more}`,
    measured: worst?.gap_ms ?? null,
    threshold: threshold_ms,
  };
}

// ------------------------------------------------------------------ throughput

function checkMinThroughput(
  rec: CheckableRecording,
  lab: LabConfig,
  min_per_s: number,
): CheckResult {
  const ok = rec.history.filter((h) => h.type === 'ok').length;
  const duration_ms = rec.manifest.duration_ms ?? lab.duration_ms;
  const rate = duration_ms > 0 ? ok / (duration_ms / 1_000) : 0;
  return {
    name: 'min-throughput',
    verdict: rate >= min_per_s ? 'pass' : 'fail',
    detail: `${String(ok)} successful operations in ${formatDuration(duration_ms)} = ${rate.toFixed(1)} ops/s (minimum ${String(min_per_s)} ops/s)`,
    measured: rate,
    threshold: min_per_s,
  };
}

// ------------------------------------------------------------------ sequence integrity

interface SeqStream {
  max: number;
  readonly seen: Set<number>;
}

/**
 * Each agent numbers its events 1, 2, 3, … per incarnation and resends unacknowledged ones on
 * reconnect; the recording must hold each number exactly once. History entries count when
 * they carry their agent seq (schema.ts historyEntrySchema).
 */
function checkSequenceIntegrity(rec: CheckableRecording): CheckResult {
  const name = 'sequence-integrity';
  const streams = new Map<string, SeqStream>();
  const problems: string[] = [];
  let numbered = 0;
  // Events and history lines share one numbering per agent incarnation, in two files: gather
  // each stream's numbers first, then look for holes and repeats.
  const visit = (node: string, incarnation: number, seq: number, where: string): void => {
    numbered++;
    const key = `${node} incarnation ${String(incarnation)}`;
    let stream = streams.get(key);
    if (stream === undefined) {
      stream = { max: 0, seen: new Set() };
      streams.set(key, stream);
    }
    if (stream.seen.has(seq)) {
      problems.push(`${key}: seq ${String(seq)} recorded twice (again at ${where})`);
    }
    stream.seen.add(seq);
    stream.max = Math.max(stream.max, seq);
  };
  rec.records.forEach((record, index) => {
    if (record.type === 'protocol' || record.type === 'metrics' || record.type === 'agent') {
      visit(
        record.node,
        record.incarnation,
        record.seq,
        `events.ndjson record ${String(index + 1)}`,
      );
    }
  });
  rec.history.forEach((entry, index) => {
    if (entry.node !== undefined && entry.incarnation !== undefined && entry.seq !== undefined) {
      visit(entry.node, entry.incarnation, entry.seq, `history.ndjson entry ${String(index + 1)}`);
    }
  });
  for (const [key, stream] of streams) {
    let holeStart: number | null = null;
    for (let seq = 1; seq <= stream.max + 1; seq++) {
      const present = seq > stream.max || stream.seen.has(seq);
      if (!present && holeStart === null) holeStart = seq;
      if (present && holeStart !== null) {
        const missing =
          holeStart === seq - 1 ? String(holeStart) : `${String(holeStart)}..${String(seq - 1)}`;
        problems.push(`${key}: seq ${missing} missing (of 1..${String(stream.max)})`);
        holeStart = null;
      }
    }
  }
  if (problems.length === 0) {
    return {
      name,
      verdict: 'pass',
      detail: `${String(numbered)} numbered events from ${String(streams.size)} agent incarnation(s): no gap, no duplicate`,
      measured: 0,
      threshold: 0,
    };
  }
  return {
    name,
    verdict: 'fail',
    detail: `${String(problems.length)} problem(s) in ${String(numbered)} numbered events; first: ${problems[0] ?? ''}`,
    measured: problems.length,
    threshold: 0,
  };
}
