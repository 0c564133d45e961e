import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src-node-agent/runtime/framing';
import { LinkFilter } from '../../../src-node-agent/runtime/link-filter';
import { PeerTransport, type PeerEndpoint } from '../../../src-node-agent/runtime/peer-transport';
import { freePorts, waitFor } from './support/net';

interface Node {
  transport: PeerTransport;
  filter: LinkFilter;
  messages: { from: string; msg: unknown }[];
  requests: unknown[];
  replies: { from: string; rep: unknown }[];
  refused: { remote: string; reason: string }[];
}

const open: PeerTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

function node(
  self: string,
  servers: PeerEndpoint[],
  opts: { secret: Buffer; runId?: string; listen?: boolean },
): Node {
  const n: Node = {
    transport: null as unknown as PeerTransport,
    filter: new LinkFilter(),
    messages: [],
    requests: [],
    replies: [],
    refused: [],
  };
  const endpoint = servers.find((s) => s.id === self);
  n.transport = new PeerTransport({
    self,
    runId: opts.runId ?? 'run-1',
    secret: opts.secret,
    listen:
      opts.listen === false || endpoint === undefined
        ? null
        : { host: endpoint.host, port: endpoint.port },
    servers,
    filter: n.filter,
    onMessage: (from, msg) => n.messages.push({ from, msg }),
    onRequest: (req) => n.requests.push(req),
    onReply: (from, rep) => n.replies.push({ from, rep }),
    onUnauthenticated: (remote, reason) => n.refused.push({ remote, reason }),
  });
  open.push(n.transport);
  return n;
}

async function cluster(count: number): Promise<{ servers: PeerEndpoint[]; secret: Buffer }> {
  const ports = await freePorts(count);
  return {
    servers: ports.map((port, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', port })),
    secret: randomBytes(32),
  };
}

describe('peer transport', () => {
  it('authenticated peers exchange messages both ways, requests and replies', async () => {
    const { servers, secret } = await cluster(2);
    const n1 = node('n1', servers, { secret });
    const n2 = node('n2', servers, { secret });
    const w1 = node('w1', servers, { secret, listen: false });
    await Promise.all([n1.transport.start(), n2.transport.start(), w1.transport.start()]);

    n1.transport.sendMessage('n2', { t: 'ping', n: 1 });
    n2.transport.sendMessage('n1', { t: 'pong', n: 1 });
    await waitFor('messages both ways', () => n1.messages.length === 1 && n2.messages.length === 1);
    expect(n2.messages).toEqual([{ from: 'n1', msg: { t: 'ping', n: 1 } }]);
    expect(n1.messages).toEqual([{ from: 'n2', msg: { t: 'pong', n: 1 } }]);

    w1.transport.sendRequest('n2', { client: 'w1.1.1.c0', seq: 1, op: { f: 'get', key: 'k1' } });
    await waitFor('the request', () => n2.requests.length === 1);
    n2.transport.sendReply({ client: 'w1.1.1.c0', seq: 1, type: 'ok', output: null } as never);
    await waitFor('the reply', () => w1.replies.length === 1);
    expect(w1.replies[0]).toEqual({
      from: 'n2',
      rep: { client: 'w1.1.1.c0', seq: 1, type: 'ok', output: null },
    });
    const stats = n1.transport.takeLinkStats();
    expect(stats.n2).toEqual({ sent: 1, received: 1, dropped: 0 });
    expect(n1.transport.takeLinkStats().n2).toEqual({ sent: 0, received: 0, dropped: 0 });
    expect([...n1.refused, ...n2.refused, ...w1.refused]).toEqual([]);
  });

  it('delivers a message stream in order when there are no faults', async () => {
    const { servers, secret } = await cluster(2);
    const n1 = node('n1', servers, { secret });
    const n2 = node('n2', servers, { secret });
    await Promise.all([n1.transport.start(), n2.transport.start()]);
    // Up first: before authentication only the bounded waiting queue holds messages.
    n1.transport.sendMessage('n2', { i: -1 });
    await waitFor('the link', () => n2.messages.length === 1);
    n2.messages.length = 0;
    const count = 20_000;
    for (let i = 0; i < count; i++) {
      n1.transport.sendMessage('n2', { i, pad: 'x'.repeat(i % 50) });
      // Spread over event-loop turns too, so coalesced writes span several flushes.
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor('the whole stream', () => n2.messages.length === count, 10_000);
    expect(n2.messages.map((m) => (m.msg as { i: number }).i)).toEqual(
      Array.from({ length: count }, (_, i) => i),
    );
  });

  it('refuses and counts a peer with the wrong secret', async () => {
    const { servers, secret } = await cluster(2);
    const n1 = node('n1', servers, { secret });
    const bad = node('n2', servers, { secret: randomBytes(32), listen: false });
    await Promise.all([n1.transport.start(), bad.transport.start()]);
    bad.transport.sendMessage('n1', { t: 'evil' });
    await waitFor('the refusal', () => n1.transport.unauthenticated >= 1);
    expect(n1.refused[0]?.reason).toMatch(/bad MAC from "n2"/);
    // The dialer learns it was refused, too (and will keep retrying with backoff).
    await waitFor('the dialer to notice', () => bad.refused.length >= 1);
    expect(n1.messages).toEqual([]);
  });

  it('refuses and counts a peer of another run', async () => {
    const { servers, secret } = await cluster(2);
    const n1 = node('n1', servers, { secret });
    const other = node('n2', servers, { secret, runId: 'run-2', listen: false });
    await Promise.all([n1.transport.start(), other.transport.start()]);
    other.transport.sendMessage('n1', { t: 'hi' });
    await waitFor('the refusal', () => n1.transport.unauthenticated >= 1);
    expect(n1.refused[0]?.reason).toMatch(/wrong runId "run-2"/);
    expect(n1.messages).toEqual([]);
  });

  it('refuses garbage, oversized frames and silence before authentication', async () => {
    const { servers, secret } = await cluster(1);
    const n1 = node('n1', servers, { secret });
    await n1.transport.start();
    const port = servers[0]?.port as number;
    const garbage = createConnection({ host: '127.0.0.1', port });
    garbage.on('error', () => undefined);
    garbage.write(Buffer.from('\x00\x00\x00\x05hello'));
    const big = createConnection({ host: '127.0.0.1', port });
    big.on('error', () => undefined);
    big.write(encodeFrame({ t: 'auth', pad: 'x'.repeat(10_000) }));
    await waitFor('two refusals', () => n1.refused.length >= 2);
    expect(n1.refused.map((r) => r.reason).join('\n')).toMatch(/not valid JSON/);
    expect(n1.refused.map((r) => r.reason).join('\n')).toMatch(/exceeds the 4096-byte limit/);
    const silent = createConnection({ host: '127.0.0.1', port });
    silent.on('error', () => undefined);
    await waitFor('the handshake timeout', () => n1.refused.length >= 3, 4_000);
    expect(n1.refused[2]?.reason).toMatch(/no authentication within 2000 ms/);
    for (const s of [garbage, big, silent]) s.destroy();
  });

  it('applies the link filter: a cut drops and counts, heal restores', async () => {
    const { servers, secret } = await cluster(2);
    const n1 = node('n1', servers, { secret });
    const n2 = node('n2', servers, { secret });
    await Promise.all([n1.transport.start(), n2.transport.start()]);
    n1.filter.setRules('f', [{ peer: 'n2', direction: 'out', cut: true }]);
    for (let i = 0; i < 10; i++) n1.transport.sendMessage('n2', { i });
    n1.filter.heal(null);
    n1.transport.sendMessage('n2', { i: 'after' });
    await waitFor('the message after the heal', () => n2.messages.length === 1);
    expect(n2.messages[0]?.msg).toEqual({ i: 'after' });
    expect(n1.transport.takeLinkStats().n2).toEqual({ sent: 1, received: 0, dropped: 10 });
  });

  it('reconnects to a peer that restarts', async () => {
    const { servers, secret } = await cluster(2);
    const n1 = node('n1', servers, { secret });
    let n2 = node('n2', servers, { secret });
    await Promise.all([n1.transport.start(), n2.transport.start()]);
    n1.transport.sendMessage('n2', { i: 1 });
    await waitFor('the first message', () => n2.messages.length === 1);
    await n2.transport.close();
    n2 = node('n2', servers, { secret });
    await n2.transport.start();
    // Messages written before n1 notices the old connection died are lost, as on a real
    // network; a protocol re-sends (heartbeats, retries), and so does this test.
    let i = 2;
    const resend = setInterval(() => n1.transport.sendMessage('n2', { i: i++ }), 20);
    try {
      await waitFor('a message on the new connection', () => n2.messages.length > 0);
    } finally {
      clearInterval(resend);
    }
    expect(n1.refused).toEqual([]);
  });
});
