import type { StackDefinition } from '../../core/protocol';
import type { KvOp, KvOutput } from '../kv/kv-ops';
import { kvReplySchema } from '../kv/kv-schemas';
import type { SignatureScheme } from './auth-scheme';
import type { Hmac } from './hmac-sha256';
import { PbftClient } from './client';
import { byzantineBehaviours, pbftConfigSchema, type PbftConfig } from './config';
import { fastKvReply, fastPbftMessage, fastPbftRequest, withFastPath } from './fast-guard';
import { correctReplicasAgree } from './invariants';
import { pbftMessageSchema, pbftRequestSchema, type PbftMessage } from './messages';
import { PbftReplica } from './replica';

/** n = 3f+1 replicas tolerate f Byzantine ones; the error says which sizes work. */
export function pbftClusterSizeError(n: number): string | null {
  if (!Number.isInteger(n) || n < 4 || n > 64 || (n - 1) % 3 !== 0) {
    return `PBFT needs n = 3f+1 replicas with f >= 1 (4, 7, 10, … up to 64), got ${n}`;
  }
  return null;
}

/**
 * The PBFT stack with a given Ed25519 implementation for `auth: 'ed25519'` and, optionally,
 * HMAC-SHA256 for the MAC authenticators: a driver that may do I/O (the agent) passes faster
 * ones over node:crypto than the pure TypeScript defaults; they compute the same functions.
 */
export function pbftStackWith(
  signatures: SignatureScheme,
  hmac?: Hmac,
): StackDefinition<PbftMessage, KvOp, KvOutput, PbftConfig> {
  return {
    ...pbftStack,
    // A driver that passes native crypto is one that runs at full speed: it also gets the
    // hand-written checks of the hot messages (fast-guard.ts), same verdicts as the schemas.
    messageSchema: withFastPath(pbftMessageSchema, fastPbftMessage),
    requestSchema: withFastPath(pbftRequestSchema, fastPbftRequest),
    replySchema: withFastPath(kvReplySchema, fastKvReply),
    createReplica: (ctx, config) => new PbftReplica(ctx, config, signatures, hmac),
    createClient: (ctx, config) => new PbftClient(ctx, config, hmac),
  };
}

export const pbftStack: StackDefinition<PbftMessage, KvOp, KvOutput, PbftConfig> = {
  name: 'pbft',
  description:
    'PBFT replicated key-value store (seed 002, slides 21–29; Castro and Liskov 1999): n = 3f+1, ' +
    'PRE-PREPARE/PREPARE/COMMIT, MAC authenticators (HMAC-SHA256) or Ed25519 signatures ' +
    '(params auth), authenticated client requests, checkpoints and watermarks, view change ' +
    'with NEW-VIEW verification, batching, switchable Byzantine replicas',
  configSchema: pbftConfigSchema,
  messageSchema: pbftMessageSchema,
  requestSchema: pbftRequestSchema,
  replySchema: kvReplySchema,
  validateClusterSize: (n) => pbftClusterSizeError(n),
  createReplica: (ctx, config) => new PbftReplica(ctx, config),
  createClient: (ctx, config) => new PbftClient(ctx, config),
  invariants: [correctReplicasAgree],
  byzantineBehaviours,
};
