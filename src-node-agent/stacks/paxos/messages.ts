import { z } from 'zod';
import type { ClientRequest } from '../../core/protocol';
import type { KvOp } from '../kv/kv-ops';
import { kvRequestSchema, kvSnapshotSchema } from '../kv/kv-schemas';
import type { KvSnapshot } from '../kv/kv-machine';

/** What one log slot orders: a batch of client requests, or a no-op that fills a gap. */
export type Command =
  | { readonly type: 'noop' }
  | { readonly type: 'batch'; readonly reqs: readonly ClientRequest<KvOp>[] };

export interface SnapshotTransfer {
  readonly slot: number;
  readonly state: KvSnapshot;
}

/**
 * Multi-Paxos messages, named as in seed 002 (slides 12–19): New-Leader for leader election,
 * Proposal/Accept for ordering. Prepare / Prepare-OK is how a new leader "collects information
 * from a majority of servers" before it may propose (slide 13).
 */
export type PaxosMessage =
  /** `answer`: sent in reply to a New-Leader; never answered itself (no ping-pong). */
  | { readonly t: 'new-leader'; readonly view: number; readonly answer: boolean }
  | { readonly t: 'prepare'; readonly view: number; readonly fromSlot: number }
  | {
      readonly t: 'prepare-ok';
      readonly view: number;
      readonly entries: readonly {
        readonly slot: number;
        readonly view: number;
        readonly cmd: Command;
      }[];
      readonly snapshot: SnapshotTransfer | null;
    }
  | {
      readonly t: 'proposal';
      readonly view: number;
      readonly slot: number;
      readonly cmd: Command;
      /** The leader's executed prefix: lets a follower that missed Accepts order the slot. */
      readonly commit: number;
    }
  | { readonly t: 'accept'; readonly view: number; readonly slot: number }
  | { readonly t: 'heartbeat'; readonly view: number; readonly commit: number }
  | {
      readonly t: 'status';
      readonly view: number;
      /** Highest slot up to which this follower holds every entry in `view` (or executed it). */
      readonly accepted: number;
      readonly executed: number;
    }
  | { readonly t: 'nack'; readonly view: number; readonly promised: number }
  | {
      readonly t: 'snapshot';
      readonly view: number;
      readonly slot: number;
      readonly state: KvSnapshot;
    };

export const MAX_BATCH = 4096;
export const MAX_PREPARE_ENTRIES = 200_000;

const view = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const slot = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const commandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('noop') }).strict(),
  z
    .object({ type: z.literal('batch'), reqs: z.array(kvRequestSchema).min(1).max(MAX_BATCH) })
    .strict(),
]);
export const paxosRequestSchema = kvRequestSchema;

export const paxosMessageSchema: z.ZodType<PaxosMessage> = z.discriminatedUnion('t', [
  z.object({ t: z.literal('new-leader'), view, answer: z.boolean() }).strict(),
  z.object({ t: z.literal('prepare'), view, fromSlot: slot }).strict(),
  z
    .object({
      t: z.literal('prepare-ok'),
      view,
      entries: z
        .array(z.object({ slot, view, cmd: commandSchema }).strict())
        .max(MAX_PREPARE_ENTRIES),
      snapshot: z.object({ slot, state: kvSnapshotSchema }).strict().nullable(),
    })
    .strict(),
  z
    .object({ t: z.literal('proposal'), view, slot: slot.min(1), cmd: commandSchema, commit: slot })
    .strict(),
  z.object({ t: z.literal('accept'), view, slot: slot.min(1) }).strict(),
  z.object({ t: z.literal('heartbeat'), view, commit: slot }).strict(),
  z.object({ t: z.literal('status'), view, accepted: slot, executed: slot }).strict(),
  z.object({ t: z.literal('nack'), view, promised: view }).strict(),
  z.object({ t: z.literal('snapshot'), view, slot, state: kvSnapshotSchema }).strict(),
]);
