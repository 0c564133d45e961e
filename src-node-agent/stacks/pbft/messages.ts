import { z } from 'zod';
import type { ClientRequest } from '../../core/protocol';
import type { KvOp } from '../kv/kv-ops';
import { kvOpSchema } from '../kv/kv-ops';
import { kvSnapshotSchema } from '../kv/kv-schemas';
import type { PbftRequest } from './client-auth';
import type { KvSnapshot } from '../kv/kv-machine';

/** What one sequence number orders: a batch of client requests, or the null request of a gap. */
export type Command =
  | { readonly type: 'null' }
  | { readonly type: 'batch'; readonly reqs: readonly ClientRequest<KvOp>[] };

/** A prepare certificate (slide 28): the pre-prepare plus the backups whose PREPAREs matched. */
export interface PreparedProof {
  readonly view: number;
  readonly seq: number;
  readonly digest: string;
  readonly cmd: Command;
  readonly prepares: readonly string[];
}

/** A checkpoint a replica holds (the C set of the paper's MAC variant). */
export interface CheckpointClaim {
  readonly seq: number;
  readonly digest: string;
}

/** A request a replica accepted a pre-prepare for, and the latest view it did (the Q set). */
export interface PrePreparedClaim {
  readonly seq: number;
  readonly digest: string;
  readonly view: number;
}

/**
 * A VIEW-CHANGE's content, as the sender wrote it; NEW-VIEW carries the ones its decision
 * used (at least 2f+1). Claims, not proofs: new-view.ts decides only on what f+1 or 2f+1
 * VIEW-CHANGEs agree on (Castro and Liskov, TOCS 2002, section 4.5).
 */
export interface ViewChangeBody {
  readonly view: number;
  readonly replica: string;
  /** Last stable checkpoint, and the replicas the sender heard vouch for it (informative). */
  readonly stable: number;
  readonly stableDigest: string;
  readonly checkpointProof: readonly string[];
  /** Checkpoints the sender holds, its stable one included (C). */
  readonly checkpoints: readonly CheckpointClaim[];
  /** Per sequence number above the stable checkpoint, the latest prepare certificate (P). */
  readonly prepared: readonly PreparedProof[];
  /** Requests pre-prepared above the stable checkpoint, each with its latest view (Q). */
  readonly prePrepared: readonly PrePreparedClaim[];
}

/** A VIEW-CHANGE as a NEW-VIEW carries it: in signature mode with its sender's signature
 * (hex), which makes it evidence any replica can check (see auth-scheme.ts). */
export type SignedViewChange = ViewChangeBody & { readonly sig?: string };

export interface PrePrepareEntry {
  readonly seq: number;
  readonly digest: string;
  readonly cmd: Command;
}

/**
 * PBFT messages (seed 002 slides 27–29; Castro and Liskov '99, section 4). Every message
 * between replicas carries `auth`: a MAC authenticator, one HMAC-SHA256 per replica in
 * server order (the sender's own entry is empty), or in signature mode one Ed25519 signature.
 */
export type PbftBody =
  /** A backup relays a client request to the primary. */
  | { readonly t: 'request'; readonly req: ClientRequest<KvOp> }
  | {
      readonly t: 'pre-prepare';
      readonly view: number;
      readonly seq: number;
      readonly digest: string;
      readonly cmd: Command;
    }
  | { readonly t: 'prepare'; readonly view: number; readonly seq: number; readonly digest: string }
  | { readonly t: 'commit'; readonly view: number; readonly seq: number; readonly digest: string }
  | { readonly t: 'checkpoint'; readonly seq: number; readonly digest: string }
  | ({ readonly t: 'view-change' } & ViewChangeBody)
  | {
      readonly t: 'new-view';
      readonly view: number;
      readonly viewChanges: readonly SignedViewChange[];
      readonly prePrepares: readonly PrePrepareEntry[];
    }
  /** State transfer: a replica behind a stable checkpoint asks for the state at `seq`. */
  | { readonly t: 'fetch-state'; readonly seq: number }
  | { readonly t: 'state'; readonly seq: number; readonly state: KvSnapshot };

export type PbftMessage = PbftBody & { readonly auth: readonly string[] };

export const MAX_BATCH = 1024;
/** View numbers further than this above a replica's own are dropped by the replica. */
export const MAX_VIEW_AHEAD = 1_000;
const MAX_REPLICAS = 64;
const MAX_PREPARED = 100_000;

/** Views beyond 2^32 cannot be reached by doubling timeouts in any run: such a number is garbage. */
export const MAX_VIEW = 2 ** 32;
const view = z.number().int().min(0).max(MAX_VIEW);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const digest = z.string().min(1).max(128);
const replica = z.string().min(1).max(64);
/** A MAC (32 hex) or an Ed25519 signature (128 hex). */
const authEntry = z.string().max(128);
/** Client requests carry their client's MAC authenticator (client-auth.ts). */
const requestSchema: z.ZodType<PbftRequest> = z
  .object({
    client: z.string().min(1).max(64),
    seq: z.number().int().min(1),
    op: kvOpSchema,
    auth: z.array(authEntry).min(1).max(MAX_REPLICAS),
  })
  .strict();
const commandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('null') }).strict(),
  z
    .object({ type: z.literal('batch'), reqs: z.array(requestSchema).min(1).max(MAX_BATCH) })
    .strict(),
]);
const preparedSchema = z
  .object({
    view,
    seq: seq.min(1),
    digest,
    cmd: commandSchema,
    prepares: z.array(replica).max(MAX_REPLICAS),
  })
  .strict();
const viewChangeFields = {
  view,
  replica,
  stable: seq,
  stableDigest: digest,
  checkpointProof: z.array(replica).max(MAX_REPLICAS),
  checkpoints: z.array(z.object({ seq, digest }).strict()).max(MAX_PREPARED),
  prepared: z.array(preparedSchema).max(MAX_PREPARED),
  prePrepared: z.array(z.object({ seq: seq.min(1), digest, view }).strict()).max(MAX_PREPARED),
};
const viewChangeBodySchema = z
  .object({ ...viewChangeFields, sig: z.string().max(128).optional() })
  .strict();
const auth = z.array(authEntry).min(1).max(MAX_REPLICAS);

export const pbftRequestSchema = requestSchema;

export const pbftMessageSchema: z.ZodType<PbftMessage> = z.discriminatedUnion('t', [
  z.object({ t: z.literal('request'), req: requestSchema, auth }).strict(),
  z
    .object({
      t: z.literal('pre-prepare'),
      view,
      seq: seq.min(1),
      digest,
      cmd: commandSchema,
      auth,
    })
    .strict(),
  z.object({ t: z.literal('prepare'), view, seq: seq.min(1), digest, auth }).strict(),
  z.object({ t: z.literal('commit'), view, seq: seq.min(1), digest, auth }).strict(),
  z.object({ t: z.literal('checkpoint'), seq: seq.min(1), digest, auth }).strict(),
  z.object({ t: z.literal('view-change'), ...viewChangeFields, auth }).strict(),
  z
    .object({
      t: z.literal('new-view'),
      view,
      viewChanges: z.array(viewChangeBodySchema).max(MAX_REPLICAS),
      prePrepares: z
        .array(z.object({ seq: seq.min(1), digest, cmd: commandSchema }).strict())
        .max(MAX_PREPARED),
      auth,
    })
    .strict(),
  z.object({ t: z.literal('fetch-state'), seq: seq.min(1), auth }).strict(),
  z.object({ t: z.literal('state'), seq: seq.min(1), state: kvSnapshotSchema, auth }).strict(),
]);
