import { z } from 'zod';
import type { ClientReply, StackDefinition } from '../../core/protocol';
import { kvOutputSchema, type KvOp, type KvOutput } from '../kv/kv-ops';
import { PaxosClient } from './client';
import { paxosConfigSchema, type PaxosConfig } from './config';
import { promiseCoversView, sameExecutedPrefix } from './invariants';
import { paxosMessageSchema, paxosRequestSchema, type PaxosMessage } from './messages';
import { PaxosReplica } from './replica';

const replySchema: z.ZodType<ClientReply<KvOutput>> = z.discriminatedUnion('type', [
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

export const paxosStack: StackDefinition<PaxosMessage, KvOp, KvOutput, PaxosConfig> = {
  name: 'paxos',
  description:
    'Multi-Paxos replicated key-value store (seed 002): views, leader election by timeout, ' +
    'Proposal/Accept with majority quorums, replay on view change, crash-recovery, at-most-once clients',
  configSchema: paxosConfigSchema,
  messageSchema: paxosMessageSchema,
  requestSchema: paxosRequestSchema,
  replySchema,
  validateClusterSize(n) {
    return n >= 1 && n <= 64 ? null : `cluster size must be 1–64 replicas, got ${n}`;
  },
  createReplica: (ctx, config) => new PaxosReplica(ctx, config),
  createClient: (ctx, config) => new PaxosClient(ctx, config),
  invariants: [sameExecutedPrefix, promiseCoversView],
};
