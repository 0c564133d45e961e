import { afterEach, describe, expect, it, vi } from 'vitest';
import { agentConfigSchema } from '../../../src-node-agent/control/agent-config';
import { agentEventSchema, type AgentEvent } from '../../../src-node-agent/control/frames';
import { encodeFrame, FrameDecoder } from '../../../src-node-agent/runtime/framing';
import {
  MessageTracer,
  TRACE_SUMMARY_INTERVAL_MS,
} from '../../../src-node-agent/runtime/message-trace';
import { TokenBucket } from '../../../src-node-agent/runtime/token-bucket';
import {
  encodeTracedFrame,
  messageType,
  receivedMid,
} from '../../../src-node-agent/runtime/traced-frame';

afterEach(() => {
  vi.useRealTimers();
});

function tracer(maxPerSecond: number): {
  t: MessageTracer;
  events: AgentEvent[];
  clock: { now: number };
} {
  const events: AgentEvent[] = [];
  const clock = { now: 0 };
  const t = new MessageTracer({
    self: 'n1',
    incarnation: 3,
    maxPerSecond,
    emit: (e) => events.push(e),
    now_ms: () => clock.now,
  });
  return { t, events, clock };
}

describe('token bucket', () => {
  it('grants a full bucket at once, then refills at the rate', () => {
    const clock = { now: 0 };
    const b = new TokenBucket(10, 10, () => clock.now);
    let granted = 0;
    for (let i = 0; i < 50; i++) if (b.take()) granted++;
    expect(granted).toBe(10);
    clock.now = 100; // one token's worth
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    clock.now = 100_000; // saved up tokens stop at the capacity
    granted = 0;
    for (let i = 0; i < 50; i++) if (b.take()) granted++;
    expect(granted).toBe(10);
  });

  it('over T seconds grants at most capacity + rate * T', () => {
    const clock = { now: 0 };
    const b = new TokenBucket(100, 100, () => clock.now);
    let granted = 0;
    // 10 000 attempts a second for 5 seconds.
    for (let step = 0; step < 50_000; step++) {
      clock.now = step * 0.1;
      if (b.take()) granted++;
    }
    expect(granted).toBeLessThanOrEqual(100 + 100 * 5);
    expect(granted).toBeGreaterThanOrEqual(100 * 5);
  });

  it('refuses a rate or capacity that cannot work', () => {
    expect(() => new TokenBucket(0)).toThrow(/rate must be a positive number/);
    expect(() => new TokenBucket(Number.NaN)).toThrow(/rate must be a positive number/);
    expect(() => new TokenBucket(5, 0.5)).toThrow(/capacity must be at least 1/);
  });
});

describe('message tracer', () => {
  it('sends carry the sender-assigned mid and the schema accepts the events', () => {
    const { t, events } = tracer(100);
    const a = t.nextWireId();
    const b = t.nextWireId();
    expect([a, b]).toEqual(['3.1', '3.2']);
    t.outgoing('send', 'n2', 'accept', a, 57);
    t.outgoing('drop', 'n2', 'accept', a, 57);
    expect(events).toEqual([
      { kind: 'message', dir: 'send', peer: 'n2', type: 'accept', mid: 'n1.3.1', bytes: 57 },
      { kind: 'message', dir: 'drop', peer: 'n2', type: 'accept', mid: 'n1.3.1', bytes: 57 },
    ]);
    for (const e of events) expect(agentEventSchema.parse(e)).toEqual(e);
  });

  it('a received frame yields the sender mid, its type and its exact wire size', () => {
    const { t, events } = tracer(100);
    const frame = encodeTracedFrame('msg', '7.42', JSON.stringify({ t: 'prepare', view: 2 }));
    const [decoded] = new FrameDecoder().push(frame) as object[];
    t.incoming('recv', 'n2', 'msg', decoded as object);
    t.incoming('drop', 'w1', 'req', { t: 'req', m: '1.9', req: { client: 'c', seq: 1, op: 0 } });
    t.incoming('recv', 'n2', 'rep', { t: 'rep', rep: { type: 'redirect' } });
    expect(events[0]).toEqual({
      kind: 'message',
      dir: 'recv',
      peer: 'n2',
      type: 'prepare',
      mid: 'n2.7.42',
      bytes: frame.length,
    });
    expect(events[1]).toMatchObject({ dir: 'drop', peer: 'w1', type: 'request', mid: 'w1.1.9' });
    // An untraced sender: the receipt is still recorded, with no id to pair it by.
    expect(events[2]).toMatchObject({ dir: 'recv', type: 'reply-redirect', mid: '' });
  });

  it('beyond maxPerSecond counts events and summarizes the gap once a second', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { t, events, clock } = tracer(5);
    for (let i = 0; i < 20; i++) t.outgoing('send', 'n2', 'accept', t.nextWireId(), 10);
    expect(events.filter((e) => e.kind === 'message')).toHaveLength(5);
    expect(events.some((e) => e.kind === 'message-trace-dropped')).toBe(false);
    expect(t.suppressedTotal).toBe(15);

    vi.advanceTimersByTime(TRACE_SUMMARY_INTERVAL_MS);
    expect(events.filter((e) => e.kind === 'message-trace-dropped')).toEqual([
      { kind: 'message-trace-dropped', count: 15 },
    ]);

    // The bucket refills: half a second later 2 more fit (2.5 tokens), then a new gap.
    clock.now = 500;
    for (let i = 0; i < 10; i++) t.outgoing('send', 'n2', 'accept', t.nextWireId(), 10);
    expect(events.filter((e) => e.kind === 'message')).toHaveLength(7);
    vi.advanceTimersByTime(TRACE_SUMMARY_INTERVAL_MS - 1);
    expect(events.filter((e) => e.kind === 'message-trace-dropped')).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(events.filter((e) => e.kind === 'message-trace-dropped')).toEqual([
      { kind: 'message-trace-dropped', count: 15 },
      { kind: 'message-trace-dropped', count: 8 },
    ]);
    // No gap, no summary, no timer.
    vi.advanceTimersByTime(10 * TRACE_SUMMARY_INTERVAL_MS);
    expect(events.filter((e) => e.kind === 'message-trace-dropped')).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
    for (const e of events) agentEventSchema.parse(e);
  });

  it('dispose reports the last gap, stops its timer and emits nothing after', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { t, events } = tracer(1);
    t.outgoing('send', 'n2', 'x', t.nextWireId(), 1);
    t.outgoing('send', 'n2', 'x', t.nextWireId(), 1);
    t.outgoing('send', 'n2', 'x', t.nextWireId(), 1);
    expect(vi.getTimerCount()).toBe(1);
    t.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(events.at(-1)).toEqual({ kind: 'message-trace-dropped', count: 2 });
    const n = events.length;
    t.outgoing('send', 'n2', 'x', t.nextWireId(), 1);
    t.dispose();
    expect(events).toHaveLength(n);
  });

  it('refuses a rate that is not a positive integer, saying how to turn tracing off', () => {
    expect(() => tracer(0)).toThrow(/maxPerSecond must be a positive integer.*traceMessages/);
    expect(() => tracer(2.5)).toThrow(/maxPerSecond must be a positive integer/);
  });
});

describe('traced peer frames', () => {
  it('are byte for byte what encodeFrame gives for the same object', () => {
    const msg = { t: 'proposal', view: 1, slot: 4, cmd: { type: 'noop' }, s: 'é"\\\n' };
    expect(encodeTracedFrame('msg', '2.5', JSON.stringify(msg))).toEqual(
      encodeFrame({ t: 'msg', m: '2.5', msg }),
    );
    const req = { client: 'w1.1.1.c0', seq: 3, op: { f: 'get', key: 'k' } };
    expect(encodeTracedFrame('req', '1.1', JSON.stringify(req))).toEqual(
      encodeFrame({ t: 'req', m: '1.1', req }),
    );
    expect(encodeTracedFrame('msg', '1.2', undefined)).toEqual(
      encodeFrame({ t: 'msg', m: '1.2', msg: undefined }),
    );
  });

  it('label messages by their type field, cut to a bounded length', () => {
    expect(messageType('msg', { t: 'accept' })).toBe('accept');
    expect(messageType('msg', { type: 'vote' })).toBe('vote');
    expect(messageType('msg', 42)).toBe('message');
    expect(messageType('msg', { t: 'x'.repeat(500) })).toHaveLength(64);
    expect(messageType('req', { t: 'whatever' })).toBe('request');
    expect(messageType('rep', { type: 'ok' })).toBe('reply-ok');
    expect(messageType('rep', null)).toBe('reply');
  });

  it('take the mid from the authenticated peer, never from the frame alone', () => {
    expect(receivedMid('n2', { m: '4.17' })).toBe('n2.4.17');
    expect(receivedMid('n2', {})).toBe('');
    expect(receivedMid('n2', { m: 17 })).toBe('');
    expect(receivedMid('n2', { m: 'x'.repeat(41) })).toBe('');
  });
});

describe('traceMessages config', () => {
  const base = {
    version: 1,
    runId: 'r',
    node: 'n1',
    role: 'replica',
    stack: 'paxos',
    params: {},
    servers: [{ id: 'n1', host: '127.0.0.1', port: 7000 }],
    secretHex: 'a'.repeat(64),
    workDir: '/w',
    controlSocket: '/w/c.sock',
    lease_ms: 1000,
    durability: 'memory',
  };

  it('is off unless set', () => {
    expect(agentConfigSchema.parse(base).traceMessages).toBeNull();
    expect(agentConfigSchema.parse({ ...base, traceMessages: null }).traceMessages).toBeNull();
    expect(
      agentConfigSchema.parse({ ...base, traceMessages: { maxPerSecond: 500 } }).traceMessages,
    ).toEqual({ maxPerSecond: 500 });
  });

  it('rejects a rate of zero, a fraction, a huge rate or unknown keys', () => {
    for (const bad of [
      { maxPerSecond: 0 },
      { maxPerSecond: 1.5 },
      { maxPerSecond: 10_000_000 },
      { maxPerSecond: 10, burst: 5 },
      true,
    ]) {
      expect(agentConfigSchema.safeParse({ ...base, traceMessages: bad }).success).toBe(false);
    }
  });
});
