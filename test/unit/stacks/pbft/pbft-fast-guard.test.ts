import { describe, expect, it } from 'vitest';
import { kvReplySchema } from '../../../../src-node-agent/stacks/kv/kv-schemas';
import {
  fastKvReply,
  fastPbftMessage,
  fastPbftRequest,
} from '../../../../src-node-agent/stacks/pbft/fast-guard';
import { pbftStackWith } from '../../../../src-node-agent/stacks/pbft';
import { pureEd25519 } from '../../../../src-node-agent/stacks/pbft/auth-scheme';
import {
  pbftMessageSchema,
  pbftRequestSchema,
} from '../../../../src-node-agent/stacks/pbft/messages';
import { Prng } from '../../../../src-node-agent/sim/prng';
import { guardInput } from '../../../../src-node-agent/core/input-guard';
import { Cluster, put } from './pbft-harness';

/** Wrong values a field may be given: each must be rejected where the schema rejects it. */
const ODD_VALUES: readonly unknown[] = [
  -1,
  0,
  1.5,
  2 ** 53,
  2 ** 33,
  '',
  'x'.repeat(65),
  'x'.repeat(129),
  'x'.repeat(5000),
  null,
  true,
  [],
  ['a'],
  Array.from({ length: 65 }, () => 'a'),
  {},
  { type: 'null' },
  { type: 'batch', reqs: [] },
  { f: 'get', key: '' },
  { f: 'put', key: 'k', value: { nested: 1 } },
];

function mutate(value: unknown, prng: Prng, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) {
    return ODD_VALUES[prng.int(ODD_VALUES.length)];
  }
  const copy: unknown = JSON.parse(JSON.stringify(value));
  if (Array.isArray(copy)) {
    if (copy.length === 0 || prng.int(4) === 0) return ODD_VALUES[prng.int(ODD_VALUES.length)];
    const i = prng.int(copy.length);
    copy[i] = depth < 4 ? mutate(copy[i], prng, depth + 1) : ODD_VALUES[0];
    return copy;
  }
  const obj = copy as Record<string, unknown>;
  const keys = Object.keys(obj);
  switch (prng.int(4)) {
    case 0:
      if (keys.length > 0) delete obj[keys[prng.int(keys.length)] as string];
      return obj;
    case 1:
      obj[prng.int(2) === 0 ? 'extra' : '__proto__'] = 1;
      return obj;
    default: {
      const k = keys[prng.int(Math.max(1, keys.length))];
      if (k === undefined) return ODD_VALUES[0];
      obj[k] = depth < 4 ? mutate(obj[k], prng, depth + 1) : ODD_VALUES[prng.int(3)];
      return obj;
    }
  }
}

/** Real messages of a run: pre-prepares, votes, checkpoints, relayed requests. */
function realMessages(): unknown[] {
  const c = new Cluster({ checkpointEvery: 2 });
  for (let i = 1; i <= 6; i++) c.request('n1', put(`c${i}`, 1, `k${i}`, `v${i}`));
  c.request('n2', put('c9', 1, 'k9', 'relayed'));
  c.deliver();
  return c.sent.map((e) => JSON.parse(JSON.stringify(e.msg)) as unknown);
}

/**
 * The hand-written checks in front of the PBFT schemas (fast-guard.ts) must be sound: what
 * they accept, the schema accepts with the same value. Whatever they decline goes to the
 * schema, so a malformed input is still rejected with the schema's reason.
 */
describe('PBFT fast input checks', () => {
  const seed = Number(process.env['SEED'] ?? 11);
  console.log(`PBFT fast input checks: seed ${seed} (SEED=... to change)`);
  const prng = new Prng(seed);
  const messages = realMessages();

  it('accept every normal-case message of a real run, as the schema does', () => {
    const types = new Set<string>();
    for (const m of messages) {
      const t = (m as { t: string }).t;
      if (!['pre-prepare', 'prepare', 'commit', 'checkpoint', 'request'].includes(t)) continue;
      types.add(t);
      expect(fastPbftMessage(m)).toBe(m);
      expect(pbftMessageSchema.safeParse(m)).toEqual({ success: true, data: m });
    }
    expect([...types].sort()).toEqual([
      'checkpoint',
      'commit',
      'pre-prepare',
      'prepare',
      'request',
    ]);
  });

  it('never accept what the schema rejects (random mutations of real messages)', () => {
    let declined = 0;
    for (let i = 0; i < 20_000; i++) {
      const original = messages[prng.int(messages.length)];
      const input = mutate(original, prng);
      const fast = fastPbftMessage(input);
      if (fast === undefined) {
        declined++;
        continue;
      }
      const slow = pbftMessageSchema.safeParse(input);
      expect(slow.success, `fast check accepted ${JSON.stringify(input)}`).toBe(true);
      expect(slow.data).toEqual(input);
    }
    expect(declined).toBeGreaterThan(10_000);
  });

  it('requests and replies: the same soundness, and the common ones take the fast path', () => {
    const req = JSON.parse(JSON.stringify(put('c1', 3, 'k', 'v'))) as unknown;
    expect(fastPbftRequest(req)).toBe(req);
    const replies: unknown[] = [
      { client: 'c1', seq: 3, type: 'ok', output: 'v' },
      { client: 'c1', seq: 3, type: 'ok', output: null },
      { client: 'c1', seq: 3, type: 'ok', output: true },
      { client: 'c1', seq: 3, type: 'redirect', leaderHint: 'n2' },
      { client: 'c1', seq: 3, type: 'redirect', leaderHint: null },
    ];
    for (const r of replies) expect(fastKvReply(r)).toBe(r);
    for (let i = 0; i < 10_000; i++) {
      const input = mutate(prng.int(2) === 0 ? req : replies[prng.int(replies.length)], prng);
      const fastReq = fastPbftRequest(input);
      if (fastReq !== undefined) expect(pbftRequestSchema.safeParse(input).data).toEqual(input);
      const fastRep = fastKvReply(input);
      if (fastRep !== undefined) expect(kvReplySchema.safeParse(input).data).toEqual(input);
    }
  });

  it('the agent stack still rejects a malformed message, with the schema reason', () => {
    const stack = pbftStackWith(pureEd25519);
    const bad = { t: 'prepare', view: 0, seq: 0, digest: 'd', auth: ['', 'a', 'b', 'c'] };
    const guarded = guardInput(stack, 'message', bad);
    expect(guarded.ok).toBe(false);
    if (!guarded.ok) expect(guarded.reason).toMatch(/seq/);
    const good = messages.find((m) => (m as { t: string }).t === 'commit');
    expect(guardInput(stack, 'message', good)).toEqual({ ok: true, value: good });
  });
});
