import { z } from 'zod';
import { faultSchema } from '../../src-node-agent/core/faults';
import { checkResultSchema } from '../record/schema';

/**
 * What the dashboard shows of a run at one moment, derived from the run's records by
 * RunView (run-view.ts). The same state comes from a live run and from a recording played
 * back, so every view works on both. Plain JSON: the server sends it as a snapshot when a page
 * subscribes or seeks, the page then folds pushed records into it.
 */

export const nodeStatuses = [
  'starting',
  'up',
  'crashed',
  'paused',
  'exited',
  'disconnected',
] as const;
export type NodeStatus = (typeof nodeStatuses)[number];

export const nodeViewSchema = z
  .object({
    id: z.string(),
    role: z.enum(['replica', 'workload']),
    status: z.enum(nodeStatuses),
    incarnation: z.number().int(),
    /** Another node started a view change while this one led. */
    suspected: z.boolean(),
    /** The Byzantine behaviour the node last acted out, if any. */
    byzantine: z.string().nullable(),
    /** Highest slot/sequence number this node executed. */
    executed: z.number().int(),
  })
  .strict();
export type NodeView = z.infer<typeof nodeViewSchema>;

/** A directed link that is not plain ok. Links absent from the list are ok. */
export const linkViewSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    state: z.enum(['cut', 'degraded']),
    detail: z.string(),
  })
  .strict();
export type LinkView = z.infer<typeof linkViewSchema>;

export const activeFaultSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    type: z.string(),
    source: z.string(),
    since_ms: z.number(),
  })
  .strict();
export type ActiveFault = z.infer<typeof activeFaultSchema>;

/** A shaded span on the charts' time axis (Jepsen's nemesis periods). */
export const faultPeriodSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    type: z.string(),
    /** The node a crash or pause period is about; null for network faults. */
    node: z.string().nullable(),
    from_ms: z.number(),
    to_ms: z.number().nullable(),
  })
  .strict();
export type FaultPeriod = z.infer<typeof faultPeriodSchema>;

/** A time series as parallel arrays (compact JSON, cheap to append and trim). */
export const seriesSchema = z.object({ t: z.array(z.number()), v: z.array(z.number()) }).strict();
export type Series = z.infer<typeof seriesSchema>;

export const timelineCategories = [
  'fault',
  'lifecycle',
  'protocol',
  'routine',
  'agent',
  'note',
] as const;
export type TimelineCategory = (typeof timelineCategories)[number];

export const timelineEntrySchema = z
  .object({
    /** Stable within a stream: the record's position in it. */
    n: z.number().int(),
    t_ms: z.number(),
    node: z.string().nullable(),
    category: z.enum(timelineCategories),
    kind: z.string(),
    text: z.string(),
  })
  .strict();
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const runViewSnapshotSchema = z
  .object({
    /** Time of the newest record folded in (ms since run start). */
    t_ms: z.number(),
    /** Records folded in so far. */
    records: z.number().int(),
    nodes: z.array(nodeViewSchema),
    leader: z.object({ node: z.string(), view: z.number() }).nullable(),
    links: z.array(linkViewSchema),
    /** Network faults in force (the links above derive from them). */
    networkFaults: z.array(z.object({ id: z.string(), fault: faultSchema }).strict()),
    activeFaults: z.array(activeFaultSchema),
    faultPeriods: z.array(faultPeriodSchema),
    series: z
      .object({
        throughput: seriesSchema,
        p50_ms: seriesSchema,
        p95_ms: seriesSchema,
        p99_ms: seriesSchema,
        /** Messages sent per second, per node. */
        messages: z.record(z.string(), seriesSchema),
      })
      .strict(),
    timeline: z.array(timelineEntrySchema),
    checks: z.array(checkResultSchema),
    counts: z
      .object({
        completedOps: z.number().int(),
        rejected: z.number().int(),
        messagesTraced: z.number().int(),
        faults: z.number().int(),
      })
      .strict(),
  })
  .strict();
export type RunViewSnapshot = z.infer<typeof runViewSnapshotSchema>;
