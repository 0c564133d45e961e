import { z } from 'zod';

/**
 * The replicated key-value state machine shared by Paxos and PBFT. Besides get/put/append it
 * has the two operations of seed 002 ("Op 1) +n: add n to our variable"; "Op 2) ?v:n: if the
 * variable is v, set it to n").
 *
 * Every operation is total and deterministic: `add` on a non-number treats it as 0, `append`
 * on a non-string appends to its string form. Replicas that apply the same operations in the
 * same order reach the same state.
 */
export type KvValue = string | number | null;

export type KvOp =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: KvValue }
  | { readonly f: 'append'; readonly key: string; readonly value: string }
  | { readonly f: 'add'; readonly key: string; readonly delta: number }
  | {
      readonly f: 'cas';
      readonly key: string;
      readonly expected: KvValue;
      readonly value: KvValue;
    };

/**
 * get → the value; cas → whether it swapped; append → whether it appended (false when the
 * result would exceed MAX_VALUE_LENGTH; the value is then unchanged); put/add → null.
 */
export type KvOutput = KvValue | boolean;

export const MAX_KEY_LENGTH = 256;
export const MAX_VALUE_LENGTH = 4096;

const kvValueSchema = z.union([z.string().max(MAX_VALUE_LENGTH), z.number().finite(), z.null()]);
const keySchema = z.string().min(1).max(MAX_KEY_LENGTH);

export const kvOpSchema: z.ZodType<KvOp> = z.discriminatedUnion('f', [
  z.object({ f: z.literal('get'), key: keySchema }).strict(),
  z.object({ f: z.literal('put'), key: keySchema, value: kvValueSchema }).strict(),
  z
    .object({ f: z.literal('append'), key: keySchema, value: z.string().max(MAX_VALUE_LENGTH) })
    .strict(),
  z.object({ f: z.literal('add'), key: keySchema, delta: z.number().finite() }).strict(),
  z
    .object({ f: z.literal('cas'), key: keySchema, expected: kvValueSchema, value: kvValueSchema })
    .strict(),
]);

export const kvOutputSchema: z.ZodType<KvOutput> = z.union([kvValueSchema, z.boolean()]);

export function isReadOnly(op: KvOp): boolean {
  return op.f === 'get';
}

/** Apply `op` to the current value of its key; returns the new value and the op's output. */
export function applyKvOp(
  current: KvValue,
  op: KvOp,
): { readonly next: KvValue; readonly output: KvOutput } {
  switch (op.f) {
    case 'get':
      return { next: current, output: current };
    case 'put':
      return { next: op.value, output: null };
    case 'append': {
      // Bounded like every value a client can write, so a reply always fits its schema.
      const next = (current === null ? '' : String(current)) + op.value;
      return next.length > MAX_VALUE_LENGTH
        ? { next: current, output: false }
        : { next, output: true };
    }
    case 'add':
      return { next: (typeof current === 'number' ? current : 0) + op.delta, output: null };
    case 'cas':
      return current === op.expected
        ? { next: op.value, output: true }
        : { next: current, output: false };
  }
}
