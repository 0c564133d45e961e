import type { ApiMethod, ApiPush, ApiResult } from '../../src-main/api/api-schema';
import type { RunRecord } from './types';
import {
  apiMethods,
  apiPushSchema,
  apiResponseSchema,
  runViewSnapshotSchema,
  streamRefSchema,
} from './contract';
import { z } from 'zod';

/**
 * Checks what the server sends before the page believes it. Responses and every push except
 * `records` are parsed in full with the contract's zod schemas.
 *
 * `records` pushes are the hot path: up to 10,000 records/s during a busy run. A full zod parse
 * of each record (a discriminated union with nested objects) costs several microseconds, which
 * at that rate would eat a large share of the 16 ms frame. So for them we check the envelope
 * (push kind, stream ref, that `records` is an array of objects) and parse the first and the last
 * record of each batch in full: a server speaking a different record format fails on the first
 * batch with a clear message, while the records in between are trusted — they come from the
 * same serializer, which built them from agent frames it already validated.
 */

const recordsEnvelopeSchema = z
  .object({
    push: z.literal('records'),
    stream: streamRefSchema,
    records: z.array(z.object({ type: z.string(), t_ms: z.number() }).passthrough()),
    playhead_ms: z.number().optional(),
    // Rare (a resync after the server dropped batches for a slow page): parsed in full.
    snapshot: runViewSnapshotSchema.optional(),
  })
  .strict();

/** The full record schema, taken from the contract's `records` push. */
const recordSchema: z.ZodType | undefined = (() => {
  for (const option of apiPushSchema.options) {
    const shape = option.shape as Record<string, z.ZodType>;
    const records = shape['records'];
    if (records instanceof z.ZodArray) return records.element as z.ZodType;
  }
  return undefined;
})();

export type ParsedFrame =
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; code: string; message: string }
  | { kind: 'push'; push: ApiPush };

export class FrameError extends Error {
  override name = 'FrameError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses one text frame from the server; throws FrameError naming what was wrong. */
export function parseServerFrame(text: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FrameError(`the server sent a frame that is not JSON (${String(error)})`);
  }
  if (typeof json !== 'object' || json === null) {
    throw new FrameError('the server sent a frame that is not a JSON object');
  }
  if ('push' in json) return { kind: 'push', push: parsePush(json) };
  const parsed = apiResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new FrameError(`malformed response frame: ${describeIssues(parsed.error)}`);
  }
  const r = parsed.data;
  return r.ok
    ? { kind: 'response', id: r.id, ok: true, result: r.result }
    : { kind: 'response', id: r.id, ok: false, code: r.error.code, message: r.error.message };
}

function parsePush(json: object): ApiPush {
  if ((json as { push?: unknown }).push === 'records') {
    const envelope = recordsEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      throw new FrameError(`malformed records push: ${describeIssues(envelope.error)}`);
    }
    const records = envelope.data.records;
    if (recordSchema !== undefined && records.length > 0) {
      for (const i of records.length === 1 ? [0] : [0, records.length - 1]) {
        const checked = recordSchema.safeParse(records[i]);
        if (!checked.success) {
          throw new FrameError(
            `records push: record ${i} of ${records.length} does not match the record schema (${describeIssues(checked.error)}); is the server a different FaultLab version?`,
          );
        }
      }
    }
    return { ...envelope.data, records: records as unknown as RunRecord[] };
  }
  const parsed = apiPushSchema.safeParse(json);
  if (!parsed.success) {
    throw new FrameError(`malformed push: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Checks a successful call's result against its method's result schema. */
export function parseResult<M extends ApiMethod>(method: M, result: unknown): ApiResult<M> {
  const parsed = apiMethods[method].result.safeParse(result);
  if (!parsed.success) {
    throw new FrameError(`result does not match the contract: ${describeIssues(parsed.error)}`);
  }
  return parsed.data as ApiResult<M>;
}
