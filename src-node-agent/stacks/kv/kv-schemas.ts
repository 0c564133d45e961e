import { z } from 'zod';
import type { ClientReply, ClientRequest } from '../../core/protocol';
import { kvOpSchema, kvOutputSchema, MAX_VALUE_LENGTH, type KvOp, type KvOutput } from './kv-ops';
import type { KvSnapshot } from './kv-machine';

/**
 * Wire schemas of the replicated key-value service, shared by every stack that serves it
 * (Paxos, PBFT): the client request, the reply, and a state snapshot.
 */
export const MAX_SNAPSHOT_ITEMS = 1_000_000;

export const kvRequestSchema: z.ZodType<ClientRequest<KvOp>> = z
  .object({ client: z.string().min(1).max(64), seq: z.number().int().min(1), op: kvOpSchema })
  .strict();

export const kvReplySchema: z.ZodType<ClientReply<KvOutput>> = z.discriminatedUnion('type', [
  z
    .object({
      client: z.string(),
      seq: z.number().int(),
      type: z.literal('ok'),
      output: kvOutputSchema,
    })
    .strict(),
  z
    .object({
      client: z.string(),
      seq: z.number().int(),
      type: z.literal('redirect'),
      leaderHint: z.string().nullable(),
    })
    .strict(),
  z
    .object({
      client: z.string(),
      seq: z.number().int(),
      type: z.literal('busy'),
      reason: z.string().max(1000),
    })
    .strict(),
]);

const kvValue = z.union([z.string().max(MAX_VALUE_LENGTH), z.number(), z.null()]);

export const kvSnapshotSchema: z.ZodType<KvSnapshot> = z
  .object({
    kv: z.array(z.tuple([z.string(), kvValue])).max(MAX_SNAPSHOT_ITEMS),
    clients: z
      .array(
        z.tuple([
          z.string(),
          z.object({ seq: z.number().int(), output: z.union([kvValue, z.boolean()]) }).strict(),
        ]),
      )
      .max(MAX_SNAPSHOT_ITEMS),
    chain: z.number().int().min(0),
  })
  .strict();
