import type { z } from 'zod';
import type { ClientReply } from '../../core/protocol';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH, type KvOutput } from '../kv/kv-ops';
import type { PbftRequest } from './client-auth';
import { MAX_BATCH, MAX_VIEW, type PbftMessage } from './messages';

/**
 * Hand-written checks for the messages of PBFT's normal case (PREPARE, COMMIT, PRE-PREPARE,
 * CHECKPOINT, a relayed request), client requests and replies: the zod schemas cost a
 * replica about a tenth of its CPU at a few thousand operations per second.
 *
 * Each check is *sound*: it accepts only what the zod schema in messages.ts / kv-schemas.ts
 * accepts (in places it is stricter, e.g. safe integers), and returns the input itself.
 * Whatever it does not accept goes to the zod schema, which decides and words the rejection:
 * an invalid input is still rejected and counted exactly as before.
 */

const MAX_REPLICAS = 64;

type Obj = Record<string, unknown>;

function isObject(v: unknown, keys: number): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === keys;
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

function isString(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

function isStringArray(v: unknown, min: number, max: number, each: number): boolean {
  if (!Array.isArray(v) || v.length < min || v.length > max) return false;
  for (const s of v) if (!isString(s, 0, each)) return false;
  return true;
}

function isKvValue(v: unknown): boolean {
  return (
    v === null || isString(v, 0, MAX_VALUE_LENGTH) || (typeof v === 'number' && Number.isFinite(v))
  );
}

/** get and put, which the workloads send; other operations go to zod. */
function isKvOp(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const f = (v as Obj)['f'];
  if (f === 'get') return isObject(v, 2) && isString(v['key'], 1, MAX_KEY_LENGTH);
  if (f === 'put') {
    return isObject(v, 3) && isString(v['key'], 1, MAX_KEY_LENGTH) && isKvValue(v['value']);
  }
  return false;
}

const isAuth = (v: unknown): boolean => isStringArray(v, 1, MAX_REPLICAS, 128);
const isSeq = (v: unknown): boolean => isInt(v, 1, Number.MAX_SAFE_INTEGER);
const isView = (v: unknown): boolean => isInt(v, 0, MAX_VIEW);
const isDigest = (v: unknown): boolean => isString(v, 1, 128);

function isRequest(v: unknown): v is PbftRequest {
  return (
    isObject(v, 4) &&
    isString(v['client'], 1, 64) &&
    isSeq(v['seq']) &&
    isKvOp(v['op']) &&
    isAuth(v['auth'])
  );
}

function isCommand(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const type = (v as Obj)['type'];
  if (type === 'null') return isObject(v, 1);
  if (type !== 'batch' || !isObject(v, 2)) return false;
  const reqs = v['reqs'];
  if (!Array.isArray(reqs) || reqs.length < 1 || reqs.length > MAX_BATCH) return false;
  for (const r of reqs) if (!isRequest(r)) return false;
  return true;
}

/** The normal-case message, or undefined for zod to decide. */
export function fastPbftMessage(v: unknown): PbftMessage | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Obj;
  switch (o['t']) {
    case 'prepare':
    case 'commit':
      return isObject(o, 5) &&
        isView(o['view']) &&
        isSeq(o['seq']) &&
        isDigest(o['digest']) &&
        isAuth(o['auth'])
        ? (o as unknown as PbftMessage)
        : undefined;
    case 'pre-prepare':
      return isObject(o, 6) &&
        isView(o['view']) &&
        isSeq(o['seq']) &&
        isDigest(o['digest']) &&
        isCommand(o['cmd']) &&
        isAuth(o['auth'])
        ? (o as unknown as PbftMessage)
        : undefined;
    case 'checkpoint':
      return isObject(o, 4) && isSeq(o['seq']) && isDigest(o['digest']) && isAuth(o['auth'])
        ? (o as unknown as PbftMessage)
        : undefined;
    case 'request':
      return isObject(o, 3) && isRequest(o['req']) && isAuth(o['auth'])
        ? (o as unknown as PbftMessage)
        : undefined;
    default:
      return undefined;
  }
}

export function fastPbftRequest(v: unknown): PbftRequest | undefined {
  return isRequest(v) ? v : undefined;
}

/** `ok` and `redirect` replies; `busy` goes to zod. */
export function fastKvReply(v: unknown): ClientReply<KvOutput> | undefined {
  if (!isObject(v, 4) || typeof v['client'] !== 'string' || !isInt(v['seq'], -Infinity, Infinity)) {
    return undefined;
  }
  if (v['type'] === 'ok') {
    const out = v['output'];
    return isKvValue(out) || typeof out === 'boolean'
      ? (v as unknown as ClientReply<KvOutput>)
      : undefined;
  }
  if (v['type'] === 'redirect') {
    const hint = v['leaderHint'];
    return hint === null || typeof hint === 'string'
      ? (v as unknown as ClientReply<KvOutput>)
      : undefined;
  }
  return undefined;
}

/**
 * `schema` with `fast` in front of its safeParse (the only method the drivers' input guard
 * calls): what `fast` accepts is returned as is, the rest is parsed by `schema`.
 */
export function withFastPath<T>(schema: z.ZodType<T>, fast: (v: unknown) => T | undefined) {
  const wrapped = Object.create(schema) as z.ZodType<T>;
  const safeParse: z.ZodType<T>['safeParse'] = (data, params) => {
    const value = fast(data);
    return value !== undefined ? { success: true, data: value } : schema.safeParse(data, params);
  };
  Object.defineProperty(wrapped, 'safeParse', { value: safeParse });
  return wrapped;
}
