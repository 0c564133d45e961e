import { z } from 'zod';

/**
 * The fault vocabulary shared by the simulator, the agent, the orchestrator and lab files.
 * Partitions are resolved to explicit groups before they are recorded, so a schedule replays
 * exactly: two nodes can talk iff some group contains both (a bridge node sits in both groups).
 */
const nodeId = z.string().min(1).max(64);

export const linkProfileSchema = z
  .object({
    delay_ms: z.number().min(0).max(60_000).optional(),
    jitter_ms: z.number().min(0).max(60_000).optional(),
    loss: z.number().min(0).max(1).optional(),
    duplicate: z.number().min(0).max(1).optional(),
    reorder: z.number().min(0).max(1).optional(),
  })
  .strict();
export type LinkProfile = z.infer<typeof linkProfileSchema>;

export const partitionShapes = [
  'isolate',
  'halves',
  'majority-minority',
  'bridge',
  'groups',
] as const;

export const faultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('crash'), node: nodeId }).strict(),
  z.object({ type: z.literal('recover'), node: nodeId }).strict(),
  z.object({ type: z.literal('pause'), node: nodeId }).strict(),
  z.object({ type: z.literal('resume'), node: nodeId }).strict(),
  z
    .object({
      type: z.literal('partition'),
      shape: z.enum(partitionShapes),
      groups: z.array(z.array(nodeId).min(1)).min(1).max(64),
    })
    .strict(),
  z.object({ type: z.literal('cut'), from: nodeId, to: nodeId }).strict(),
  z.object({ type: z.literal('heal-network') }).strict(),
  z
    .object({
      type: z.literal('degrade'),
      /** Directed links [from, to]; absent = every link between servers. */
      links: z.array(z.tuple([nodeId, nodeId])).optional(),
      profile: linkProfileSchema,
    })
    .strict(),
  z.object({ type: z.literal('restore-links') }).strict(),
  z.object({ type: z.literal('heal-all') }).strict(),
  /**
   * The operator turns a replica Byzantine while it runs (behaviour names are the stack's,
   * e.g. PBFT's 'equivocate'), or honest again with `behaviour: null`. Only stacks that model
   * Byzantine replicas accept it.
   */
  z
    .object({
      type: z.literal('byzantine'),
      node: nodeId,
      behaviour: z.string().min(1).max(64).nullable(),
    })
    .strict(),
]);
export type Fault = z.infer<typeof faultSchema>;
export type FaultType = Fault['type'];

export const timedFaultSchema = z.object({ at_ms: z.number().min(0), fault: faultSchema }).strict();
export type TimedFault = z.infer<typeof timedFaultSchema>;

/** Human text for logs and the timeline: "partition majority-minority [n1 n2 n3] | [n4 n5]". */
export function describeFault(fault: Fault): string {
  switch (fault.type) {
    case 'crash':
    case 'recover':
    case 'pause':
    case 'resume':
      return `${fault.type} ${fault.node}`;
    case 'partition':
      return `partition ${fault.shape} ${fault.groups.map((g) => `[${g.join(' ')}]`).join(' | ')}`;
    case 'cut':
      return `cut ${fault.from} -> ${fault.to}`;
    case 'degrade': {
      const p = fault.profile;
      const parts = [
        p.delay_ms !== undefined ? `delay ${p.delay_ms}ms` : '',
        p.jitter_ms !== undefined ? `jitter ${p.jitter_ms}ms` : '',
        p.loss !== undefined ? `loss ${p.loss}` : '',
        p.duplicate !== undefined ? `dup ${p.duplicate}` : '',
        p.reorder !== undefined ? `reorder ${p.reorder}` : '',
      ].filter((s) => s !== '');
      const where = fault.links ? fault.links.map(([a, b]) => `${a}->${b}`).join(',') : 'all links';
      return `degrade ${where}: ${parts.join(', ')}`;
    }
    case 'byzantine':
      return fault.behaviour === null
        ? `honest ${fault.node}`
        : `byzantine ${fault.node} ${fault.behaviour}`;
    default:
      return fault.type;
  }
}
