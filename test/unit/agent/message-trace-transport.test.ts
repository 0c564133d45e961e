/**
 * Message tracing through real PeerTransports over loopback TCP: every receipt pairs with
 * exactly one send by mid, in order per link; link-filter drops are traced at the side that
 * dropped; with tracing off the wire carries no ids.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { agentEventSchema, type AgentEvent } from '../../../src-node-agent/control/frames';
import { encodeFrame } from '../../../src-node-agent/runtime/framing';
import { LinkFilter } from '../../../src-node-agent/runtime/link-filter';
import { MessageTracer } from '../../../src-node-agent/runtime/message-trace';
import { PeerTransport, type PeerEndpoint } from '../../../src-node-agent/runtime/peer-transport';
import { freePorts, waitFor } from './support/net';

type MessageEvent = Extract<AgentEvent, { kind: 'message' }>;

interface Node {
  readonly id: string;
  readonly transport: PeerTransport;
  readonly filter: LinkFilter;
  readonly tracer: MessageTracer | null;
  readonly events: AgentEvent[];
  readonly delivered: unknown[];
}

const open: Node[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) {
    await n.transport.close();
    n.tracer?.dispose();
  }
});

function node(id: string, servers: PeerEndpoint[], secret: Buffer, traced: boolean): Node {
  const events: AgentEvent[] = [];
  const delivered: unknown[] = [];
  const filter = new LinkFilter();
  const tracer = traced
    ? new MessageTracer({
        self: id,
        incarnation: 1,
        maxPerSecond: 100_000,
        emit: (e) => events.push(e),
      })
    : null;
  const endpoint = servers.find((s) => s.id === id);
  let transport: PeerTransport | null = null;
  transport = new PeerTransport({
    self: id,
    runId: 'trace-run',
    secret,
    listen: endpoint === undefined ? null : { host: endpoint.host, port: endpoint.port },
    servers,
    filter,
    trace: tracer,
    onMessage: (_from, msg) => delivered.push(msg),
    onRequest: (req) => {
      delivered.push(req);
      const r = req as { client: string; seq: number };
      // Answer at once, as a replica would: the reply goes back on the client's connection.
      transport?.sendReply({ client: r.client, seq: r.seq, type: 'ok', output: r.seq } as never);
    },
    onReply: (_from, rep) => delivered.push(rep),
    onUnauthenticated: (remote, reason) => {
      throw new Error(`unexpected authentication failure from ${remote}: ${reason}`);
    },
  });
  const n: Node = { id, transport, filter, tracer, events, delivered };
  open.push(n);
  return n;
}

async function cluster(traced: (id: string) => boolean): Promise<Node[]> {
  const ports = await freePorts(3);
  const servers = ports.map((port, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', port }));
  const secret = randomBytes(32);
  const nodes = [...servers.map((s) => node(s.id, servers, secret, traced(s.id)))];
  nodes.push(node('w1', servers, secret, traced('w1')));
  await Promise.all(nodes.map((n) => n.transport.start()));
  return nodes;
}

function messages(nodes: Node[]): (MessageEvent & { node: string })[] {
  return nodes.flatMap((n) =>
    n.events.flatMap((e) => (e.kind === 'message' ? [{ ...e, node: n.id }] : [])),
  );
}

/** Each recv/drop names one send by mid, from its peer, of the same type and size. */
function expectPaired(all: (MessageEvent & { node: string })[]): void {
  const sends = new Map<string, MessageEvent & { node: string }>();
  for (const e of all.filter((x) => x.dir === 'send')) {
    expect(sends.has(e.mid), `send mid ${e.mid} is unique`).toBe(false);
    sends.set(e.mid, e);
  }
  for (const e of all.filter((x) => x.dir !== 'send')) {
    const s = sends.get(e.mid);
    expect(s, `${e.dir} ${e.mid} at ${e.node} has a send`).toBeDefined();
    const send = s as MessageEvent & { node: string };
    if (send.node === e.node) {
      // Dropped by the sender's own outgoing filter.
      expect(e.dir).toBe('drop');
      expect(e.peer).toBe(send.peer);
    } else {
      expect(e.node).toBe(send.peer);
      expect(e.peer).toBe(send.node);
    }
    expect(e.type).toBe(send.type);
    expect(e.bytes).toBe(send.bytes);
  }
}

describe('message tracing over peer transports', () => {
  it('pairs every receipt with exactly one send, in order per link', async () => {
    const [n1, n2, n3, w1] = (await cluster(() => true)) as [Node, Node, Node, Node];
    const rounds = 200;
    for (let i = 0; i < rounds; i++) {
      // Self included, as a stack's broadcast never is: a self-send crosses no link.
      n1.transport.broadcastMessage(['n1', 'n2', 'n3'], { t: 'accept', i });
      n2.transport.sendMessage('n3', { t: 'prepare', i });
      w1.transport.sendRequest(['n1', 'n2', 'n3'][i % 3] as string, {
        client: 'w1.1.1.c0',
        seq: i + 1,
        op: i,
      });
    }
    // Requests go to n1, n2, n3 in turn: 67, 67 and 66 of 200.
    await waitFor('every message, request and reply', () => {
      return (
        n1.delivered.length === rounds + 67 &&
        n2.delivered.length === rounds + 67 &&
        n3.delivered.length === 2 * rounds + 66 &&
        w1.delivered.length === rounds
      );
    });

    for (const n of [n1, n2, n3, w1]) for (const e of n.events) agentEventSchema.parse(e);
    const all = messages([n1, n2, n3, w1]);
    const sends = all.filter((e) => e.dir === 'send');
    const recvs = all.filter((e) => e.dir === 'recv');
    expect(all.filter((e) => e.dir === 'drop')).toEqual([]);
    // n1: 2 per broadcast (not to itself); n2: 1; w1: 1 request; replicas: 1 reply each.
    expect(sends).toHaveLength(rounds * 2 + rounds + rounds + rounds);
    expect(recvs).toHaveLength(sends.length);
    expect(all.some((e) => e.peer === e.node)).toBe(false);
    expectPaired(all);
    const types = new Set(all.map((e) => e.type));
    expect(types).toEqual(new Set(['accept', 'prepare', 'request', 'reply-ok']));
    expect(sends.every((e) => e.mid.startsWith(`${e.node}.1.`))).toBe(true);

    // In order per link: on each directed link, receipts come in the order of the sends.
    const counter = (mid: string): number => Number(mid.split('.').at(-1));
    const byLink = new Map<string, number[]>();
    for (const e of recvs) {
      const link = `${e.peer}->${e.node}`;
      byLink.set(link, [...(byLink.get(link) ?? []), counter(e.mid)]);
    }
    // n1->n2, n1->n3, n2->n3, w1->n1..n3 (requests), n1..n3->w1 (replies).
    expect(byLink.size).toBe(9);
    for (const [link, counters] of byLink) {
      expect(counters, link).toEqual([...counters].sort((a, b) => a - b));
    }
  });

  it('traces drops at the side whose filter dropped them, with the same mid', async () => {
    const [n1, n2, n3] = (await cluster(() => true)) as [Node, Node, Node, Node];
    n1.filter.setRules('f-out', [{ peer: 'n2', direction: 'out', cut: true }]);
    n3.filter.setRules('f-in', [{ peer: 'n1', direction: 'in', cut: true }]);
    for (let i = 0; i < 20; i++) n1.transport.broadcastMessage(['n2', 'n3'], { t: 'accept', i });
    await waitFor(
      'n3 to drop 20 messages',
      () => n3.events.filter((e) => e.kind === 'message' && e.dir === 'drop').length === 20,
    );
    const all = messages([n1, n2, n3]);
    const at = (node: string, dir: string): (MessageEvent & { node: string })[] =>
      all.filter((e) => e.node === node && e.dir === dir);
    expect(at('n1', 'send')).toHaveLength(40);
    expect(at('n1', 'drop')).toHaveLength(20);
    expect(at('n1', 'drop').every((e) => e.peer === 'n2')).toBe(true);
    expect(at('n3', 'drop').every((e) => e.peer === 'n1')).toBe(true);
    expect(at('n2', 'recv')).toEqual([]);
    expect(n3.delivered).toEqual([]);
    expectPaired(all);
    // A send the sender dropped comes right before its drop in the sender's own stream.
    const n1Events = n1.events.filter((e): e is MessageEvent => e.kind === 'message');
    for (const [i, e] of n1Events.entries()) {
      if (e.dir === 'drop') expect(n1Events[i - 1]).toMatchObject({ dir: 'send', mid: e.mid });
    }
  });

  it('with tracing off emits nothing and puts no ids on the wire', async () => {
    // Only n3 traces: what it receives from the others shows what untraced senders put on
    // the wire.
    const [n1, n2, n3, w1] = (await cluster((id) => id === 'n3')) as [Node, Node, Node, Node];
    n1.transport.broadcastMessage(['n2', 'n3'], { t: 'accept', i: 0 });
    w1.transport.sendRequest('n2', { client: 'w1.1.1.c0', seq: 1, op: 0 });
    await waitFor('delivery', () => n3.delivered.length === 1 && w1.delivered.length === 1);
    for (const n of [n1, n2, w1]) expect(n.events).toEqual([]);
    expect(n3.delivered).toEqual([{ t: 'accept', i: 0 }]);
    // Exactly the size of the untraced frame: no "m" in it.
    const untraced = encodeFrame({ t: 'msg', msg: { t: 'accept', i: 0 } }).length;
    expect(n3.events).toEqual([
      { kind: 'message', dir: 'recv', peer: 'n1', type: 'accept', mid: '', bytes: untraced },
    ]);
  });
});
