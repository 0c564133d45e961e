import { z } from 'zod';

/** The built-in client workload a workload agent runs (sent in `start-workload`). */
export const workloadSpecSchema = z
  .object({
    clients: z.number().int().min(1).max(10_000),
    /** closed: each client waits for its reply, then thinks; open: `rate_per_s` invocations in total. */
    mode: z.enum(['closed', 'open']).default('closed'),
    rate_per_s: z.number().positive().max(1_000_000).optional(),
    thinkTime_ms: z.number().min(0).max(60_000).default(0),
    keys: z.number().int().min(1).max(10_000_000).default(100),
    keyDistribution: z.enum(['uniform', 'zipf']).default('uniform'),
    mix: z
      .object({
        get: z.number().min(0).optional(),
        put: z.number().min(0).optional(),
        append: z.number().min(0).optional(),
        add: z.number().min(0).optional(),
        cas: z.number().min(0).optional(),
      })
      .strict()
      .default({}),
    seed: z.number().int().min(0).default(1),
  })
  .strict();
export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;
