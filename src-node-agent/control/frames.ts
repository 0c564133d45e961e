import { z } from 'zod';
import { linkRuleSchema } from './link-rules';
import { workloadSpecSchema } from './workload-spec';

/**
 * The control channel between the orchestrator and one agent: length-prefixed JSON frames
 * (runtime/framing.ts) over the agent's Unix socket, every frame validated by these schemas.
 *
 * Reliability: every event the agent emits carries a sequence number (per agent incarnation)
 * and stays buffered until acked. On (re)connect the orchestrator sends `hello` with the last
 * seq it has recorded for that incarnation; the agent answers `welcome` and resends everything
 * after it, so a dropped link (or SSH tunnel) loses nothing and duplicates nothing.
 */

// ------------------------------------------------------------------ orchestrator → agent

export const orchestratorFrameSchema = z.discriminatedUnion('t', [
  z
    .object({
      t: z.literal('hello'),
      /** Incarnation the orchestrator's lastSeq refers to; another incarnation resends all. */
      incarnation: z.number().int().min(0),
      lastSeq: z.number().int().min(0),
    })
    .strict(),
  z.object({ t: z.literal('ack'), seq: z.number().int().min(0) }).strict(),
  z.object({ t: z.literal('ping'), id: z.number().int(), t0_ms: z.number() }).strict(),
  z
    .object({
      t: z.literal('set-links'),
      /** Rules are grouped by fault id so one fault can be healed alone. */
      faultId: z.string().min(1).max(128),
      rules: z.array(linkRuleSchema).max(10_000),
    })
    .strict(),
  z.object({ t: z.literal('heal'), faultId: z.string().min(1).max(128).nullable() }).strict(),
  z.object({ t: z.literal('start-workload'), spec: workloadSpecSchema }).strict(),
  z
    .object({
      t: z.literal('stop-workload'),
      /** Outstanding operations get this long to complete; the rest are recorded `unknown`. */
      drain_ms: z.number().int().min(0).max(600_000),
    })
    .strict(),
  z.object({ t: z.literal('shutdown') }).strict(),
  /** The operator turns this replica Byzantine (a behaviour of its stack) or honest (null). */
  z
    .object({ t: z.literal('set-behaviour'), behaviour: z.string().min(1).max(64).nullable() })
    .strict(),
]);
export type OrchestratorFrame = z.infer<typeof orchestratorFrameSchema>;

// ------------------------------------------------------------------ agent → orchestrator

/** Latency percentiles of one telemetry interval, microseconds. */
export const latencySummarySchema = z
  .object({ count: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() })
  .strict();

/** Per peer: messages sent / received / dropped by the link filter in the interval. */
export const linkStatsSchema = z.record(
  z.string(),
  z.object({ sent: z.number(), received: z.number(), dropped: z.number() }).strict(),
);

const protocolEvent = z.object({ kind: z.string() }).passthrough();

/** What an agent reports; each is wrapped in an `event` frame with seq and agent time. */
export const agentEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('protocol'), event: protocolEvent }).strict(),
  z
    .object({
      kind: z.literal('history'),
      entry: z
        .object({
          type: z.enum(['invoke', 'ok', 'fail', 'unknown']),
          process: z.string(),
          opId: z.number().int(),
          /** Agent clock, microseconds since the epoch. */
          time_us: z.number(),
          op: z.unknown(),
          output: z.unknown().optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('metrics'),
      interval_ms: z.number(),
      /** Client operations completed in the interval (workload agents). */
      ops: z.number().int().min(0),
      latency_us: latencySummarySchema.nullable(),
      /** Per peer: messages sent / received / dropped by the link filter in the interval. */
      links: linkStatsSchema,
      rejected: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      kind: z.literal('link-faults'),
      action: z.enum(['applied', 'healed']),
      faultId: z.string().nullable(),
      rules: z.number().int().min(0),
      reason: z.string(),
    })
    .strict(),
  z.object({ kind: z.literal('lease-expired'), healedFaults: z.number().int().min(0) }).strict(),
  z
    .object({
      kind: z.literal('started'),
      role: z.enum(['replica', 'workload']),
      recovered: z.boolean(),
      listen: z.string().nullable(),
    })
    .strict(),
  z.object({ kind: z.literal('rejected'), from: z.string(), reason: z.string() }).strict(),
  z.object({ kind: z.literal('unauthenticated'), remote: z.string(), reason: z.string() }).strict(),
  z.object({ kind: z.literal('workload-stopped'), unknown: z.number().int().min(0) }).strict(),
  /**
   * Message tracing (agent config `traceMessages`): one protocol message sent to, received
   * from, or dropped by this node's link filter on the way to or from `peer`. `mid` is the
   * sender's `${sender}.${incarnation}.${counter}`: a recv or drop pairs with the send of the
   * same mid ('' when the sender did not trace). `type` is the stack message's type
   * (`accept`, `prepare`, …), `request`, or `reply-<type>`; `bytes` is the wire frame size.
   */
  z
    .object({
      kind: z.literal('message'),
      dir: z.enum(['send', 'recv', 'drop']),
      peer: z.string(),
      type: z.string(),
      mid: z.string(),
      bytes: z.number().int().min(0),
    })
    .strict(),
  /** Message events the trace's rate limit left out since the previous summary (≤ 1/s). */
  z.object({ kind: z.literal('message-trace-dropped'), count: z.number().int().min(1) }).strict(),
  z
    .object({ kind: z.literal('log'), level: z.enum(['info', 'warn', 'error']), text: z.string() })
    .strict(),
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;

export const agentFrameSchema = z.discriminatedUnion('t', [
  z
    .object({
      t: z.literal('welcome'),
      node: z.string(),
      pid: z.number().int(),
      version: z.string(),
      incarnation: z.number().int().min(0),
      /** Oldest and newest seq still buffered. */
      firstSeq: z.number().int().min(0),
      lastSeq: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      t: z.literal('event'),
      seq: z.number().int().min(1),
      /** Agent wall clock, ms since the epoch (fractional). */
      time_ms: z.number(),
      e: agentEventSchema,
    })
    .strict(),
  z
    .object({ t: z.literal('pong'), id: z.number().int(), t0_ms: z.number(), agent_ms: z.number() })
    .strict(),
  z.object({ t: z.literal('error'), message: z.string() }).strict(),
]);
export type AgentFrame = z.infer<typeof agentFrameSchema>;

type AgentFrameResult = ReturnType<typeof agentFrameSchema.safeParse>;

const HISTORY_TYPES: ReadonlySet<unknown> = new Set(['invoke', 'ok', 'fail', 'unknown']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A history or protocol event frame checked by hand, or null for the schema to decide. They
 * are nearly every frame (two history events per client operation): parsing each with zod
 * was the orchestrator's main cost at a few thousand operations per second. Sound: accepts
 * only what agentFrameSchema accepts, and returns the frame itself.
 */
function fastEventFrame(raw: unknown): AgentFrame | null {
  if (!isPlainObject(raw) || raw['t'] !== 'event' || Object.keys(raw).length !== 4) return null;
  const { seq, time_ms, e } = raw;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null;
  if (typeof time_ms !== 'number' || !Number.isFinite(time_ms) || !isPlainObject(e)) return null;
  if (e['kind'] === 'protocol') {
    const event = e['event'];
    const ok =
      Object.keys(e).length === 2 && isPlainObject(event) && typeof event['kind'] === 'string';
    return ok ? (raw as AgentFrame) : null;
  }
  if (e['kind'] !== 'history' || Object.keys(e).length !== 2) return null;
  const entry = e['entry'];
  if (!isPlainObject(entry)) return null;
  const keys = 'output' in entry ? 6 : 5;
  const { opId, time_us } = entry;
  const ok =
    Object.keys(entry).length === keys &&
    'op' in entry &&
    HISTORY_TYPES.has(entry['type']) &&
    typeof entry['process'] === 'string' &&
    typeof opId === 'number' &&
    Number.isSafeInteger(opId) &&
    typeof time_us === 'number' &&
    Number.isFinite(time_us);
  return ok ? (raw as AgentFrame) : null;
}

/** agentFrameSchema.safeParse, with the frequent event frames checked by hand first. */
export function parseAgentFrame(raw: unknown): AgentFrameResult {
  const fast = fastEventFrame(raw);
  return fast !== null ? { success: true, data: fast } : agentFrameSchema.safeParse(raw);
}
