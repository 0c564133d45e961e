import { describe, expect, it } from 'vitest';
import { applyKvOp, MAX_VALUE_LENGTH } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { paxosConfigSchema } from '../../../../src-node-agent/stacks/paxos/config';
import { KvMachine } from '../../../../src-node-agent/stacks/kv/kv-machine';

describe('KV operations (seed 002, slide 5)', () => {
  it('+n adds n to the variable; on a missing or non-numeric value it starts from 0', () => {
    expect(applyKvOp(4, { f: 'add', key: 'v', delta: 3 })).toEqual({ next: 7, output: null });
    expect(applyKvOp(null, { f: 'add', key: 'v', delta: 3 }).next).toBe(3);
    expect(applyKvOp('x', { f: 'add', key: 'v', delta: 3 }).next).toBe(3);
  });
  it('?v:n sets the variable to n only if it is v', () => {
    expect(applyKvOp(3, { f: 'cas', key: 'v', expected: 3, value: 9 })).toEqual({
      next: 9,
      output: true,
    });
    expect(applyKvOp(2, { f: 'cas', key: 'v', expected: 3, value: 9 })).toEqual({
      next: 2,
      output: false,
    });
    expect(applyKvOp(null, { f: 'cas', key: 'v', expected: null, value: 1 })).toEqual({
      next: 1,
      output: true,
    });
  });
  it('append concatenates onto the string form', () => {
    expect(applyKvOp(null, { f: 'append', key: 'v', value: 'a' }).next).toBe('a');
    expect(applyKvOp(12, { f: 'append', key: 'v', value: 'a' }).next).toBe('12a');
  });
});

describe('KvMachine: at-most-once execution (seed 004)', () => {
  it('a request already executed is answered from the cache, not executed again', () => {
    const m = new KvMachine();
    expect(m.execute({ client: 'c1', seq: 1, op: { f: 'add', key: 'n', delta: 5 } })).toEqual({
      kind: 'executed',
      output: null,
    });
    expect(m.execute({ client: 'c1', seq: 1, op: { f: 'add', key: 'n', delta: 5 } })).toEqual({
      kind: 'duplicate',
      output: null,
    });
    expect(m.get('n')).toBe(5);
  });
  it('a request older than the client’s last one is dropped (the client moved on)', () => {
    const m = new KvMachine();
    m.execute({ client: 'c1', seq: 2, op: { f: 'put', key: 'k', value: 1 } });
    expect(m.execute({ client: 'c1', seq: 1, op: { f: 'put', key: 'k', value: 9 } })).toEqual({
      kind: 'stale',
    });
    expect(m.get('k')).toBe(1);
  });
  it('snapshot and restore carry the state, the client table and the chain digest', () => {
    const m = new KvMachine();
    m.execute({ client: 'c1', seq: 1, op: { f: 'put', key: 'k', value: 'v' } });
    m.advanceChain('abc');
    const copy = new KvMachine();
    copy.restore(m.snapshot());
    expect(copy.get('k')).toBe('v');
    expect(copy.chain).toBe(m.chain);
    expect(
      copy.execute({ client: 'c1', seq: 1, op: { f: 'put', key: 'k', value: 'w' } }).kind,
    ).toBe('duplicate');
  });
});

describe('append is bounded', () => {
  it('refuses, deterministically, to grow a value past MAX_VALUE_LENGTH', () => {
    const long = 'x'.repeat(MAX_VALUE_LENGTH - 1);
    expect(applyKvOp(long, { f: 'append', key: 'v', value: 'y' })).toEqual({
      next: `${long}y`,
      output: true,
    });
    expect(applyKvOp(`${long}y`, { f: 'append', key: 'v', value: 'z' })).toEqual({
      next: `${long}y`,
      output: false,
    });
  });
});

describe('Paxos parameters', () => {
  it('reject an election timeout not longer than the heartbeat, and a maximum below the timeout', () => {
    const bad = paxosConfigSchema.safeParse({
      heartbeat_ms: 100,
      electionTimeout_ms: 60,
      electionTimeoutMax_ms: 50,
    });
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(
      messages.some((m) => m.startsWith('electionTimeout_ms: must be longer than heartbeat_ms')),
    ).toBe(true);
    expect(messages.some((m) => m.startsWith('electionTimeoutMax_ms: must be at least'))).toBe(
      true,
    );
  });
});
