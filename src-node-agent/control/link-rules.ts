import { z } from 'zod';

/**
 * One rule of the agent's link fault filter (no root needed): what happens to messages between
 * this node and `peer`. `out` rules act on what this node sends to the peer (cut, loss,
 * duplication, reordering, delay + jitter); `in` rules act on what it receives (cut, loss).
 * The orchestrator turns a partition or a one-way cut into rules on both ends.
 */
export const linkRuleSchema = z
  .object({
    peer: z.string().min(1).max(64),
    direction: z.enum(['out', 'in']),
    cut: z.boolean().optional(),
    loss: z.number().min(0).max(1).optional(),
    duplicate: z.number().min(0).max(1).optional(),
    reorder: z.number().min(0).max(1).optional(),
    delay_ms: z.number().min(0).max(60_000).optional(),
    jitter_ms: z.number().min(0).max(60_000).optional(),
  })
  .strict();
export type LinkRule = z.infer<typeof linkRuleSchema>;
