import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../src-node-agent/control/frames';
import type { AnyStack, Context, Persisted } from '../../../src-node-agent/core/protocol';
import { DurableStore } from '../../../src-node-agent/runtime/durable-store';
import { ReplicaHost } from '../../../src-node-agent/runtime/replica-host';
import { getStack } from '../../../src-node-agent/stacks';
import { waitFor } from './support/net';

type Msg =
  { t: 'set'; k: string; v: number } | { t: 'plain'; n: number } | { t: 'boom' } | { t: 'timer' };

/** A tiny stack whose every input does one visible thing. */
function testStack(log: string[]): AnyStack {
  const messageSchema = z.discriminatedUnion('t', [
    z.object({ t: z.literal('set'), k: z.string(), v: z.number() }).strict(),
    z.object({ t: z.literal('plain'), n: z.number() }).strict(),
    z.object({ t: z.literal('boom') }).strict(),
    z.object({ t: z.literal('timer') }).strict(),
  ]);
  return {
    name: 'test',
    description: 'test stack',
    configSchema: z.object({}),
    messageSchema,
    requestSchema: z.object({ client: z.string(), seq: z.number(), op: z.unknown() }),
    replySchema: z.unknown() as never,
    validateClusterSize: () => null,
    invariants: [],
    createClient: () => {
      throw new Error('no client');
    },
    createReplica: (ctx: Context<Msg, unknown>) => ({
      init: () => log.push('init'),
      recover: (p: Persisted) => log.push(`recover ${JSON.stringify(Object.fromEntries(p))}`),
      inspect: () => ({ role: 'replica', view: 0, executed: 0 }),
      onClientRequest: (req: { client: string; seq: number }) =>
        ctx.reply({ client: req.client, seq: req.seq, type: 'ok', output: 'done' }),
      onTimer: (name: string) => {
        log.push(`timer ${name}`);
      },
      onMessage: (from: string, msg: Msg) => {
        switch (msg.t) {
          case 'set':
            ctx.persist(msg.k, msg.v);
            ctx.send(from, { t: 'plain', n: msg.v });
            return;
          case 'plain':
            ctx.broadcast({ t: 'plain', n: msg.n });
            return;
          case 'boom':
            throw new Error('stack bug');
          case 'timer':
            ctx.setTimer('a', 30);
            ctx.setTimer('a', 60); // replaces the first
            return;
        }
      },
    }),
  };
}

class ManualStorage {
  readonly data = new Map<string, unknown>();
  private waiters: (() => void)[] = [];
  flushes = 0;
  set(k: string, v: unknown): void {
    if (v === undefined) this.data.delete(k);
    else this.data.set(k, v);
  }
  flush(): Promise<void> {
    this.flushes++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

const hosts: ReplicaHost[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.stop();
});

function setup(stack?: AnyStack) {
  const log: string[] = [];
  const sent: string[] = [];
  const events: AgentEvent[] = [];
  const fatal: Error[] = [];
  const storage = new ManualStorage();
  const host = new ReplicaHost({
    stack: stack ?? testStack(log),
    config: {},
    self: 'n1',
    servers: ['n1', 'n2', 'n3'],
    network: {
      sendMessage: (to, msg) => sent.push(`${to} ${JSON.stringify(msg)}`),
      sendReply: (reply) => sent.push(`reply ${JSON.stringify(reply)}`),
    },
    storage,
    emit: (e) => events.push(e),
    onFatal: (err) => fatal.push(err),
  });
  hosts.push(host);
  return { host, log, sent, events, fatal, storage };
}

describe('replica host (the real driver)', () => {
  it('init on a fresh start, recover with what was persisted', () => {
    const a = setup();
    a.host.start(null);
    expect(a.log).toEqual(['init']);
    const b = setup();
    b.host.start(new Map([['x', 1]]));
    expect(b.log).toEqual(['recover {"x":1}']);
  });

  it('persist first: sends of a persisting step, and of every step after it, wait for the flush', async () => {
    const { host, sent, storage } = setup();
    host.start(null);
    host.deliverMessage('n2', { t: 'set', k: 'a', v: 1 });
    host.deliverMessage('n3', { t: 'plain', n: 2 }); // persists nothing, but must not overtake
    expect(storage.data.get('a')).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    storage.release();
    await waitFor('the held sends', () => sent.length === 3);
    expect(sent).toEqual([
      'n2 {"t":"plain","n":1}',
      'n2 {"t":"plain","n":2}',
      'n3 {"t":"plain","n":2}',
    ]);
    // Nothing pending any more: a plain step sends at once.
    await host.settled();
    host.deliverMessage('n2', { t: 'plain', n: 3 });
    expect(sent).toHaveLength(5);
    expect(storage.flushes).toBe(1);
  });

  it('rejects malformed input and senders that are not servers, without touching the stack', () => {
    const { host, events, log } = setup();
    host.start(null);
    host.deliverMessage('n2', { t: 'set', k: 'a' });
    host.deliverMessage('c9', { t: 'plain', n: 1 });
    host.deliverRequest({ nope: true });
    expect(host.takeRejected()).toBe(3);
    expect(host.takeRejected()).toBe(0);
    const rejected = events.filter((e) => e.kind === 'rejected');
    expect(rejected).toHaveLength(3);
    expect(rejected[0]).toMatchObject({
      from: 'n2',
      reason: expect.stringMatching(/message does not match the test schema/),
    });
    expect(rejected[1]).toMatchObject({
      from: 'c9',
      reason: 'sender c9 is not a server of this cluster',
    });
    expect(log).toEqual(['init']);
  });

  it('a timer with the same name replaces the earlier one', async () => {
    const { host, log } = setup();
    host.start(null);
    host.deliverMessage('n2', { t: 'timer' });
    await new Promise((r) => setTimeout(r, 120));
    expect(log).toEqual(['init', 'timer a']);
  });

  it('a stack exception is fatal: an error event with the stack trace, then onFatal', () => {
    const { host, events, fatal, sent } = setup();
    host.start(null);
    host.deliverMessage('n2', { t: 'boom' });
    expect(fatal.map((e) => e.message)).toEqual(['stack bug']);
    const err = events.find((e) => e.kind === 'log');
    expect(err).toMatchObject({
      level: 'error',
      text: expect.stringMatching(/stack bug[\s\S]*at /),
    });
    host.deliverMessage('n2', { t: 'plain', n: 1 });
    expect(sent).toEqual([]); // a replica that cannot be trusted does nothing more
  });

  it('runs a one-replica Paxos cluster end to end with a real store', async () => {
    const store = await DurableStore.open('/nonexistent-unused', 'memory');
    const replies: unknown[] = [];
    const events: AgentEvent[] = [];
    const stack = getStack('paxos');
    const host = new ReplicaHost({
      stack,
      config: stack.configSchema.parse({}),
      self: 'n1',
      servers: ['n1'],
      network: { sendMessage: () => undefined, sendReply: (r) => replies.push(r) },
      storage: store,
      emit: (e) => events.push(e),
      onFatal: (err) => {
        throw err;
      },
    });
    hosts.push(host);
    host.start(null);
    host.deliverRequest({ client: 'w1.1.1.c0', seq: 1, op: { f: 'put', key: 'k1', value: 5 } });
    await waitFor('the reply', () => replies.length === 1, 3_000);
    expect(replies[0]).toEqual({ client: 'w1.1.1.c0', seq: 1, type: 'ok', output: null });
    expect(events.some((e) => e.kind === 'protocol' && e.event.kind === 'executed')).toBe(true);
    expect(store.keys().length).toBeGreaterThan(0);
  });
});
