import { z } from 'zod';
import { faultSchema } from '../../src-node-agent/core/faults';
import { preflightResultSchema } from '../preflight/preflight-result';
import { checkResultSchema, runRecordSchema } from '../record/schema';
import { runViewSnapshotSchema } from './run-view-schema';

/**
 * The one contract between the dashboard and the orchestrator (ARCHITECTURE.md "one typed api").
 * Carried over a WebSocket as JSON text frames:
 *
 *   page → server   ApiRequest   { id, method, params }
 *   server → page   ApiResponse  { id, ok: true, result } | { id, ok: false, error }
 *   server → page   ApiPush      { push, ... } — unsolicited: record batches, run end, terminals
 *
 * Every frame is parsed with these schemas on both sides; a malformed request gets an error
 * response naming what was wrong (id -1 when not even the id could be read) and the connection
 * stays open. This module must stay browser-safe: zod and types only, no Node imports.
 */
export const API_VERSION = 1;

/** Upper bound on one request frame; terminal input and fault specs are tiny. */
export const MAX_REQUEST_BYTES = 256 * 1024;

const id = z.string().min(1).max(200);
const nodeId = z.string().min(1).max(64);

// ------------------------------------------------------------------ shared shapes

export const labSummarySchema = z
  .object({
    /** Path as the server knows it; pass it back to run.start. */
    path: z.string(),
    name: z.string(),
    title: z.string(),
    stack: z.string(),
    nodes: z.number().int(),
    duration_ms: z.number(),
    faults: z.number().int(),
    /** First paragraph of the lab's README, if any. */
    description: z.string(),
  })
  .strict();
export type LabSummary = z.infer<typeof labSummarySchema>;

export const recordingSummarySchema = z
  .object({
    /** Opaque id (the run directory relative to the runs folder). */
    recordingId: id,
    runId: z.string(),
    name: z.string(),
    startedAt: z.string(),
    duration_ms: z.number().nullable(),
    stack: z.string(),
    nodes: z.number().int(),
    faults: z.number().int(),
    verdict: z.enum(['pass', 'fail', 'unknown', 'unchecked']),
    /** Absolute run directory on the server's machine (for "reveal in folder"). */
    runDir: z.string(),
  })
  .strict();
export type RecordingSummary = z.infer<typeof recordingSummarySchema>;

export const testbedKinds = ['local', 'netns', 'ssh'] as const;

/** What a preflight found (the same shape `faultlab preflight --json` prints). */
export type PreflightResult = z.infer<typeof preflightResultSchema>;

export const testbedAvailabilitySchema = z
  .object({
    kind: z.enum(testbedKinds),
    available: z.boolean(),
    /** Why not, and what to do (null when available). */
    reason: z.string().nullable(),
  })
  .strict();
export type TestbedAvailability = z.infer<typeof testbedAvailabilitySchema>;

export const runSetupSchema = z
  .object({
    labPath: z.string().min(1).max(4096),
    testbed: z.enum(testbedKinds).default('local'),
    nodes: z.number().int().min(1).max(64).optional(),
    duration_s: z
      .number()
      .min(1)
      .max(24 * 3600)
      .optional(),
    seed: z.number().int().optional(),
    clients: z.number().int().min(1).max(1024).optional(),
    /** Keep the lab's scripted faults (false: only the operator breaks things). */
    scriptedFaults: z.boolean().default(true),
    /** testbed ssh: the inventory YAML listing the hosts (path on the server's machine). */
    inventory: z.string().min(1).max(4096).optional(),
    /** testbed ssh: trust this known_hosts file instead of ~/.ssh/known_hosts. */
    knownHosts: z.string().min(1).max(4096).optional(),
    /** testbed ssh: host key fingerprints (SHA256:…) the user accepted in the dialog. */
    acceptHostKeys: z.array(z.string().max(128)).max(256).optional(),
  })
  .strict();
export type RunSetup = z.infer<typeof runSetupSchema>;

export const runPhases = [
  'starting',
  'running',
  'stopping',
  'checking',
  'ended',
  'failed',
] as const;
export type RunPhase = (typeof runPhases)[number];

export const liveCheckSchema = checkResultSchema;
export type LiveCheck = z.infer<typeof liveCheckSchema>;

export const runInfoSchema = z
  .object({
    runId: z.string(),
    name: z.string(),
    stack: z.string(),
    testbed: z.enum(testbedKinds),
    phase: z.enum(runPhases),
    startedAt: z.string(),
    duration_ms: z.number(),
    nodes: z.array(z.object({ id: nodeId, role: z.enum(['replica', 'workload']) }).strict()),
    /** Set once the run directory exists. */
    recordingId: z.string().nullable(),
    /** Why the kernel cannot do some faults and the agent does them instead, etc. */
    notices: z.array(z.string()),
    /** Behaviours a replica of this stack can be switched to (run.fault 'byzantine'); [] if none. */
    byzantineBehaviours: z.array(z.string()),
    problems: z.array(z.string()),
    /** What the testbed did to set up (SSH connects, uploads, kernel rules); the last 200 lines. */
    setupLog: z.array(z.string()),
    /** netns and ssh runs: the preflight the run started with (null: none, or not yet). */
    preflight: preflightResultSchema.nullable(),
  })
  .strict();
export type RunInfo = z.infer<typeof runInfoSchema>;

export const recordingInfoSchema = z
  .object({
    playbackId: z.string(),
    recording: recordingSummarySchema,
    nodes: z.array(z.object({ id: nodeId, role: z.enum(['replica', 'workload']) }).strict()),
    /** Every fault's applied time, for "jump to next fault" and scrubber marks. */
    faultTimes_ms: z.array(z.number()),
    records: z.number().int(),
    checks: z.array(checkResultSchema),
  })
  .strict();
export type RecordingInfo = z.infer<typeof recordingInfoSchema>;

/** Where a record stream or message window comes from. */
export const streamRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('run'), runId: z.string() }).strict(),
  z.object({ kind: z.literal('playback'), playbackId: z.string() }).strict(),
]);
export type StreamRef = z.infer<typeof streamRefSchema>;

/** One message between nodes, paired from the agents' send/recv/drop trace events. */
export const messageTraceSchema = z
  .object({
    mid: z.string(),
    from: nodeId,
    to: nodeId,
    type: z.string(),
    sent_ms: z.number().nullable(),
    /** null: dropped or not (yet) received. */
    received_ms: z.number().nullable(),
    dropped: z.boolean(),
  })
  .strict();
export type MessageTrace = z.infer<typeof messageTraceSchema>;

export const terminalTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }).strict(),
  z.object({ kind: z.literal('node'), runId: z.string(), node: nodeId }).strict(),
]);
export type TerminalTarget = z.infer<typeof terminalTargetSchema>;

// ------------------------------------------------------------------ requests

const cols = z.number().int().min(2).max(1000);
const rows = z.number().int().min(1).max(500);

/** method → params and result schemas. Adding a method means adding it here, nowhere else. */
export const apiMethods = {
  hello: {
    params: z.object({ apiVersion: z.number().int() }).strict(),
    result: z
      .object({
        apiVersion: z.number().int(),
        faultlabVersion: z.string(),
        runsDir: z.string(),
        desktop: z.boolean(),
        /** Kernel/agent capabilities the UI must state (e.g. "netem unavailable: agent-level delay"). */
        notices: z.array(z.string()),
        /** Where runs can go from this server (netns needs root and the kernel tools). */
        testbeds: z.array(testbedAvailabilitySchema),
      })
      .strict(),
  },
  'labs.list': {
    params: z.object({}).strict(),
    result: z.object({ labs: z.array(labSummarySchema), errors: z.array(z.string()) }).strict(),
  },
  'recordings.list': {
    params: z.object({}).strict(),
    result: z
      .object({ recordings: z.array(recordingSummarySchema), errors: z.array(z.string()) })
      .strict(),
  },
  'runs.list': {
    params: z.object({}).strict(),
    result: z.object({ runs: z.array(runInfoSchema) }).strict(),
  },
  'run.start': {
    params: runSetupSchema,
    result: runInfoSchema,
  },
  'run.stop': {
    params: z.object({ runId: z.string() }).strict(),
    result: z.object({}).strict(),
  },
  'run.fault': {
    params: z.object({ runId: z.string(), fault: faultSchema }).strict(),
    result: z.object({ label: z.string() }).strict(),
  },
  /** Current state, then `records` pushes for this run until unsubscribed or ended. */
  'run.subscribe': {
    params: z.object({ runId: z.string() }).strict(),
    result: z.object({ info: runInfoSchema, snapshot: runViewSnapshotSchema }).strict(),
  },
  'run.unsubscribe': {
    params: z.object({ runId: z.string() }).strict(),
    result: z.object({}).strict(),
  },
  'playback.open': {
    params: z.object({ recordingId: id }).strict(),
    result: z.object({ info: recordingInfoSchema, snapshot: runViewSnapshotSchema }).strict(),
  },
  /** The view state at t_ms (built from keyframes; no records are pushed for the jump). */
  'playback.seek': {
    params: z.object({ playbackId: z.string(), t_ms: z.number().min(0) }).strict(),
    result: z.object({ snapshot: runViewSnapshotSchema }).strict(),
  },
  /** Stream records from the playhead at `speed`× real time, as `records` pushes. */
  'playback.play': {
    params: z.object({ playbackId: z.string(), speed: z.number().min(0.1).max(1000) }).strict(),
    result: z.object({}).strict(),
  },
  'playback.pause': {
    params: z.object({ playbackId: z.string() }).strict(),
    result: z.object({ playhead_ms: z.number() }).strict(),
  },
  'playback.close': {
    params: z.object({ playbackId: z.string() }).strict(),
    result: z.object({}).strict(),
  },
  /** Messages whose send or receive falls in [from_ms, to_ms], at most `limit`. */
  'messages.window': {
    params: z
      .object({
        source: streamRefSchema,
        from_ms: z.number().min(0),
        to_ms: z.number().min(0),
        limit: z.number().int().min(1).max(20_000).default(2_000),
      })
      .strict(),
    result: z
      .object({
        messages: z.array(messageTraceSchema),
        /** More messages than `limit` fell in the window; narrow it. */
        truncated: z.boolean(),
        /** The agents were not tracing messages (or the trace has gaps): say so. */
        traced: z.boolean(),
        gaps: z.number().int(),
      })
      .strict(),
  },
  /** Check the hosts of an SSH inventory, or a netns testbed brought up for it (root). */
  'preflight.run': {
    params: z.discriminatedUnion('testbed', [
      z
        .object({
          testbed: z.literal('ssh'),
          inventory: z.string().min(1).max(4096),
          knownHosts: z.string().min(1).max(4096).optional(),
          acceptHostKeys: z.array(z.string().max(128)).max(256).optional(),
        })
        .strict(),
      z.object({ testbed: z.literal('netns'), nodes: z.number().int().min(1).max(64) }).strict(),
    ]),
    result: preflightResultSchema,
  },
  'terminal.open': {
    params: z.object({ target: terminalTargetSchema, cols, rows }).strict(),
    result: z.object({ terminalId: z.string(), title: z.string() }).strict(),
  },
  'terminal.input': {
    params: z.object({ terminalId: z.string(), data: z.string().max(64 * 1024) }).strict(),
    result: z.object({}).strict(),
  },
  'terminal.resize': {
    params: z.object({ terminalId: z.string(), cols, rows }).strict(),
    result: z.object({}).strict(),
  },
  /** The page has rendered `bytes` more of this terminal's output (ack-based backpressure). */
  'terminal.ack': {
    params: z.object({ terminalId: z.string(), bytes: z.number().int().min(0) }).strict(),
    result: z.object({}).strict(),
  },
  'terminal.close': {
    params: z.object({ terminalId: z.string() }).strict(),
    result: z.object({}).strict(),
  },
  /**
   * The answer to a passphrase-request push: the passphrase of an encrypted identity file, or
   * null when the user cancelled. Used once to decrypt the key and never stored or logged.
   */
  'ssh.passphrase': {
    params: z
      .object({ requestId: z.string().max(100), passphrase: z.string().max(1024).nullable() })
      .strict(),
    result: z.object({}).strict(),
  },
} as const;

export type ApiMethod = keyof typeof apiMethods;
export type ApiParams<M extends ApiMethod> = z.input<(typeof apiMethods)[M]['params']>;
export type ApiParsedParams<M extends ApiMethod> = z.output<(typeof apiMethods)[M]['params']>;
export type ApiResult<M extends ApiMethod> = z.infer<(typeof apiMethods)[M]['result']>;

export const apiRequestEnvelopeSchema = z
  .object({
    id: z.number().int().min(0),
    method: z.string().max(64),
    params: z.unknown(),
  })
  .strict();

export const apiErrorCodes = [
  'bad-request',
  'unknown-method',
  'not-found',
  'conflict',
  'failed',
  'unauthorized',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export const apiErrorSchema = z
  .object({ code: z.enum(apiErrorCodes), message: z.string() })
  .strict();
export type ApiError = z.infer<typeof apiErrorSchema>;

export const apiResponseSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ id: z.number().int(), ok: z.literal(false), error: apiErrorSchema }).strict(),
]);
export type ApiResponse = z.infer<typeof apiResponseSchema>;

// ------------------------------------------------------------------ pushes

export const apiPushSchema = z.discriminatedUnion('push', [
  /** A batch of records in time order; batches arrive at most every ~100 ms per stream. */
  z
    .object({
      push: z.literal('records'),
      stream: streamRefSchema,
      records: z.array(runRecordSchema),
      /** Playback: where the playhead is after this batch. */
      playhead_ms: z.number().optional(),
      /**
       * Resync after backpressure: the server dropped batches for this (slow) subscriber.
       * When present, replace the stream's view with RunView.fromSnapshot(snapshot) first,
       * then fold `records` (which come after it) as usual.
       */
      snapshot: runViewSnapshotSchema.optional(),
    })
    .strict(),
  z.object({ push: z.literal('run-info'), info: runInfoSchema }).strict(),
  z
    .object({ push: z.literal('checks'), runId: z.string(), checks: z.array(liveCheckSchema) })
    .strict(),
  z
    .object({
      push: z.literal('playback-state'),
      playbackId: z.string(),
      playing: z.boolean(),
      speed: z.number(),
      playhead_ms: z.number(),
      ended: z.boolean(),
      /**
       * A long recording is indexed in the background after playback.open answered: progress
       * until `done`, with the record count and fault times found so far (they complete the
       * RecordingInfo the open returned). Seeking past `indexed_ms` waits for the index.
       */
      index: z
        .object({
          done: z.boolean(),
          indexed_ms: z.number(),
          records: z.number().int(),
          faultTimes_ms: z.array(z.number()),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z.object({ push: z.literal('terminal-data'), terminalId: z.string(), data: z.string() }).strict(),
  /** An SSH identity file is encrypted: ask the user (answer with ssh.passphrase). */
  z
    .object({
      push: z.literal('passphrase-request'),
      requestId: z.string(),
      keyPath: z.string(),
      /** 1 for the first ask; more after a wrong passphrase. */
      attempt: z.number().int().min(1),
    })
    .strict(),
  /** The request was answered elsewhere, timed out, or its connection attempt ended. */
  z.object({ push: z.literal('passphrase-request-closed'), requestId: z.string() }).strict(),
  z
    .object({
      push: z.literal('terminal-exit'),
      terminalId: z.string(),
      code: z.number().int().nullable(),
      reason: z.string(),
    })
    .strict(),
]);
export type ApiPush = z.infer<typeof apiPushSchema>;
