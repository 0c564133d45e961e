import { z } from 'zod';

/**
 * Multi-Paxos parameters. `mutations` deliberately break the protocol: a lab switches one on
 * to show why the rule it breaks exists, and the mutation tests prove the simulator and the
 * checkers catch it.
 */
export const paxosConfigSchema = z
  .object({
    heartbeat_ms: z.number().positive().max(60_000).default(20),
    /** Timer T of slide 19; doubled on each view a server preinstalls, reset on progress. */
    electionTimeout_ms: z.number().positive().max(600_000).default(100),
    electionTimeoutMax_ms: z.number().positive().max(3_600_000).default(1_600),
    /** Requests per Proposal. */
    maxBatch: z.number().int().min(1).max(4096).default(64),
    /** Slots the leader may have proposed but not yet executed. */
    maxInFlight: z.number().int().min(1).max(10_000).default(32),
    /** Requests waiting at the leader; beyond it clients get "busy". */
    queueLimit: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Take a snapshot and compact the log every this many executed slots. */
    snapshotEvery: z.number().int().min(2).max(10_000_000).default(1_000),
    /** A follower ignores slots further ahead of its executed prefix than this (it gets a snapshot). */
    maxLogAhead: z.number().int().min(16).max(10_000_000).default(20_000),
    /** Slots a leader re-sends to a lagging follower per status message. */
    maxResend: z.number().int().min(1).max(10_000).default(32),
    clientRetry_ms: z.number().positive().max(600_000).default(150),
    mutations: z
      .object({
        /** 'half' = floor(n/2) votes instead of a majority: two quorums need not intersect. */
        quorum: z.enum(['majority', 'half']).default('majority'),
        /** A new leader ignores what the majority reported and does not replay proposals. */
        skipReplay: z.boolean().default(false),
      })
      .strict()
      .default({ quorum: 'majority', skipReplay: false }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.electionTimeout_ms <= c.heartbeat_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeout_ms'],
        message: `must be longer than heartbeat_ms (${c.heartbeat_ms}); a follower would suspect a healthy leader between two heartbeats`,
      });
    }
    if (c.electionTimeoutMax_ms < c.electionTimeout_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeoutMax_ms'],
        message: `must be at least electionTimeout_ms (${c.electionTimeout_ms}); otherwise "doubling" would shrink the timeout`,
      });
    }
  });

export type PaxosConfig = z.infer<typeof paxosConfigSchema>;
