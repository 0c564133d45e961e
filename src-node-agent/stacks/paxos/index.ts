import type { StackDefinition } from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { kvReplySchema } from '../kv/kv-schemas';
import { PaxosClient } from './client';
import { paxosConfigSchema, type PaxosConfig } from './config';
import { promiseCoversView, sameExecutedPrefix } from './invariants';
import { paxosMessageSchema, paxosRequestSchema, type PaxosMessage } from './messages';
import { PaxosReplica } from './replica';

export const paxosStack: StackDefinition<PaxosMessage, KvOp, KvOutput, PaxosConfig> = {
  name: 'paxos',
  description:
    'Multi-Paxos replicated key-value store (seed 002): views, leader election by timeout, ' +
    'Proposal/Accept with majority quorums, replay on view change, crash-recovery, at-most-once clients',
  configSchema: paxosConfigSchema,
  messageSchema: paxosMessageSchema,
  requestSchema: paxosRequestSchema,
  replySchema: kvReplySchema,
  validateClusterSize(n) {
    return n >= 1 && n <= 64 ? null : `cluster size must be 1–64 replicas, got ${n}`;
  },
  createReplica: (ctx, config) => new PaxosReplica(ctx, config),
  createClient: (ctx, config) => new PaxosClient(ctx, config),
  invariants: [sameExecutedPrefix, promiseCoversView],
};
