import { z } from 'zod';

/** What a Byzantine replica does instead of following the protocol (switchable per replica). */
export const byzantineBehaviours = [
  /** Sends nothing at all. */
  'silent',
  /** As primary: different batches for the same sequence number to different backups (slide 22),
   * with matching PREPARE/COMMITs to each half. */
  'equivocate',
  /** As primary: never assigns sequence numbers, so the backups must change the view. */
  'stall',
  /** Wrong results in replies; answers each PREPARE/COMMIT that tells it something new with a
   * PREPARE and a COMMIT for that digest, so it "says both things" to different replicas
   * (slide 24). */
  'lie',
  /** Corrupts the MACs of every other message and replays old messages. */
  'corrupt',
] as const;

export type ByzantineBehaviour = (typeof byzantineBehaviours)[number];

export function isByzantineBehaviour(name: string): name is ByzantineBehaviour {
  return (byzantineBehaviours as readonly string[]).includes(name);
}

/**
 * PBFT parameters (Castro and Liskov, OSDI '99). `byzantine` makes chosen replicas misbehave:
 * a lab switches one on to watch the correct replicas mask it, or two to see why n = 3f+1.
 */
export const pbftConfigSchema = z
  .object({
    /** Secret every replica derives its pairwise MAC keys from (one per run). */
    secret: z.string().min(1).max(256).default('faultlab-pbft'),
    /** How replicas authenticate messages: MAC authenticators, or Ed25519 signatures for
     * comparison (far slower, but transferable: see auth-scheme.ts). */
    auth: z.enum(['mac', 'ed25519']).default('mac'),
    /** Take a checkpoint every K sequence numbers. */
    checkpointEvery: z.number().int().min(1).max(1_000_000).default(16),
    /** L: sequence numbers accepted above the low watermark h. */
    logWindow: z.number().int().min(1).max(10_000_000).default(64),
    /** Requests per PRE-PREPARE. */
    maxBatch: z.number().int().min(1).max(1024).default(32),
    /** The primary sends a partial batch only while nothing is in flight; otherwise it waits
     * for a full batch or an execution. Off: every request is proposed as soon as a sequence
     * number is free (small batches under load, as the paper's basic protocol). */
    adaptiveBatching: z.boolean().default(false),
    /** Sequence numbers the primary may have assigned but not yet executed. */
    maxInFlight: z.number().int().min(1).max(10_000).default(16),
    /** Requests waiting at the primary; beyond it clients get "busy". */
    queueLimit: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Retransmission tick: lost PRE-PREPARE/PREPARE/COMMIT/CHECKPOINT/VIEW-CHANGE are resent. */
    tick_ms: z.number().positive().max(60_000).default(30),
    /** How long a backup waits for a pending request before VIEW-CHANGE; doubles per view change. */
    viewChangeTimeout_ms: z.number().positive().max(600_000).default(200),
    viewChangeTimeoutMax_ms: z.number().positive().max(3_600_000).default(3_200),
    clientRetry_ms: z.number().positive().max(600_000).default(300),
    byzantine: z.record(z.string().max(64), z.enum(byzantineBehaviours)).default({}),
  })
  .strict()
  // The primary assigns sequence numbers up to h+L and h moves only at a stable checkpoint:
  // with L < K no checkpoint is ever reached and the replicas stop for good.
  .refine((c) => c.logWindow >= c.checkpointEvery, {
    message:
      'logWindow (L) must be at least checkpointEvery (K), or no checkpoint is ever reached and the replicas stop; the paper uses L = 2K',
    path: ['logWindow'],
  });

export type PbftConfig = z.infer<typeof pbftConfigSchema>;
