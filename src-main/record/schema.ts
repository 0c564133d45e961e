import { z } from 'zod';
import { latencySummarySchema, linkStatsSchema } from '../../src-node-agent/control/frames';
import { faultSchema } from '../../src-node-agent/core/faults';

/**
 * The run directory (ARCHITECTURE.md "Recording"): runs/<name>/<timestamp>/
 *   run.json        RunManifest: config, versions, seed, testbed, clock offsets
 *   events.ndjson   RunRecord per line, in order: protocol events, faults, metrics, lifecycle
 *   history.ndjson  HistoryEntry per line: client operations, times normalized to run start
 *   checks.json     CheckReport
 * Append-only, flushed at least every 200 ms; a torn last line (crash mid-write) is skipped
 * and reported by the reader, never fatal. `schema` versions every file.
 */
export const RECORDING_SCHEMA_VERSION = 1;

export const runManifestSchema = z
  .object({
    schema: z.literal(RECORDING_SCHEMA_VERSION),
    runId: z.string(),
    name: z.string(),
    startedAt: z.string(),
    /** Wall clock (orchestrator, ms since epoch) of t_ms = 0. */
    origin_ms: z.number(),
    seed: z.number().int(),
    /** The lab as resolved for this run (after CLI overrides). */
    lab: z.unknown(),
    labPath: z.string().nullable(),
    testbed: z
      .object({
        kind: z.string(),
        nodes: z.array(
          z
            .object({
              id: z.string(),
              role: z.enum(['replica', 'workload']),
              host: z.string(),
              port: z.number().nullable(),
            })
            .strict(),
        ),
      })
      .strict(),
    versions: z
      .object({ faultlab: z.string(), node: z.string(), agentSha256: z.string() })
      .strict(),
    /** Per node: agent clock minus orchestrator clock (ms), and the RTT it was measured with. */
    clockOffsets: z.record(
      z.string(),
      z.object({ offset_ms: z.number(), rtt_ms: z.number() }).strict(),
    ),
    /** Set when the run ends; absent in the recording of a run that crashed. */
    endedAt: z.string().optional(),
    duration_ms: z.number().optional(),
  })
  .strict();
export type RunManifest = z.infer<typeof runManifestSchema>;

const base = { t_ms: z.number() };

export const runRecordSchema = z.discriminatedUnion('type', [
  /** A stack's protocol event, with the agent's sequence number for exactly-once accounting. */
  z
    .object({
      ...base,
      type: z.literal('protocol'),
      node: z.string(),
      incarnation: z.number().int(),
      seq: z.number().int(),
      /** Agent clock (ms since epoch), before normalization. */
      raw_ms: z.number(),
      event: z.object({ kind: z.string() }).passthrough(),
    })
    .strict(),
  /**
   * A fault, journaled before it is applied ('journal'), then 'applied' or 'failed', and later
   * 'healed'. `at_ms` is the scheduled offset; t_ms when it really happened.
   */
  z
    .object({
      ...base,
      type: z.literal('fault'),
      id: z.string(),
      phase: z.enum(['journal', 'applied', 'failed', 'healed']),
      source: z.enum(['script', 'nemesis', 'command', 'stop', 'dead-man']),
      fault: faultSchema,
      at_ms: z.number().nullable(),
      detail: z.string().optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('metrics'),
      node: z.string(),
      incarnation: z.number().int(),
      seq: z.number().int(),
      raw_ms: z.number(),
      interval_ms: z.number(),
      ops: z.number(),
      latency_us: latencySummarySchema.nullable(),
      links: linkStatsSchema,
      rejected: z.number(),
    })
    .strict(),
  /** Process lifecycle as the testbed saw it. */
  z
    .object({
      ...base,
      type: z.literal('lifecycle'),
      node: z.string(),
      what: z.enum([
        'started',
        'killed',
        'paused',
        'resumed',
        'restarted',
        'exited',
        'connected',
        'disconnected',
      ]),
      detail: z.string().optional(),
    })
    .strict(),
  /** Any other agent event (link faults applied, lease expiry, rejected input, logs). */
  z
    .object({
      ...base,
      type: z.literal('agent'),
      node: z.string(),
      incarnation: z.number().int(),
      seq: z.number().int(),
      raw_ms: z.number(),
      event: z.object({ kind: z.string() }).passthrough(),
    })
    .strict(),
  z.object({ ...base, type: z.literal('note'), text: z.string() }).strict(),
]);
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * One line of history.ndjson: a client history entry (core/history.ts) with times in
 * microseconds since t_ms = 0. `node`/`incarnation`/`seq` name the agent event it came from
 * (the agent numbers history events in the same sequence as protocol, metrics and agent
 * events), so sequence-integrity can account for every seq; entries from the simulator have
 * none.
 */
export const historyEntrySchema = z
  .object({
    type: z.enum(['invoke', 'ok', 'fail', 'unknown']),
    process: z.string(),
    opId: z.number().int(),
    time_us: z.number(),
    op: z.unknown(),
    output: z.unknown().optional(),
    node: z.string().optional(),
    incarnation: z.number().int().optional(),
    seq: z.number().int().optional(),
  })
  .strict();
export type RecordedHistoryEntry = z.infer<typeof historyEntrySchema>;

export const checkResultSchema = z
  .object({
    name: z.string(),
    verdict: z.enum(['pass', 'fail', 'unknown']),
    detail: z.string(),
    measured: z.number().nullable().optional(),
    threshold: z.number().nullable().optional(),
  })
  .strict();
export type CheckResult = z.infer<typeof checkResultSchema>;

export const checkReportSchema = z
  .object({
    schema: z.literal(RECORDING_SCHEMA_VERSION),
    verdict: z.enum(['pass', 'fail', 'unknown']),
    checkedAt: z.string(),
    checks: z.array(checkResultSchema),
  })
  .strict();
export type CheckReport = z.infer<typeof checkReportSchema>;

export const RUN_FILES = {
  manifest: 'run.json',
  events: 'events.ndjson',
  history: 'history.ndjson',
  checks: 'checks.json',
} as const;
