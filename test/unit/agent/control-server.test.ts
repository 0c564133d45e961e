import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ControlServer,
  type ControlHandlers,
} from '../../../src-node-agent/control/control-server';
import { EventBuffer } from '../../../src-node-agent/control/event-buffer';
import type { AgentEvent } from '../../../src-node-agent/control/frames';
import { AgentLog } from '../../../src-node-agent/runtime/agent-log';
import { LinkFilter } from '../../../src-node-agent/runtime/link-filter';
import { TestControlClient } from './support/control-client';
import { waitFor } from './support/net';

let dir: string;
let server: ControlServer | null;
let events: EventBuffer;
let filter: LinkFilter;
const clients: TestControlClient[] = [];
const calls: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultlab-ctl-'));
  calls.length = 0;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
  events.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(opts: { lease_ms?: number; handlers?: Partial<ControlHandlers> } = {}) {
  events = new EventBuffer({ dir, limit: 1000, now_ms: () => Date.now() });
  filter = new LinkFilter();
  server = new ControlServer({
    socketPath: join(dir, 'control.sock'),
    node: 'n1',
    version: '9.9.9',
    incarnation: 4,
    lease_ms: opts.lease_ms ?? 60_000,
    events,
    filter,
    log: new AgentLog(join(dir, 'agent.log')),
    handlers: { shutdown: () => calls.push('shutdown'), ...opts.handlers },
  });
  await server.start();
  return server;
}

async function connect(): Promise<TestControlClient> {
  const c = await TestControlClient.connect(join(dir, 'control.sock'));
  clients.push(c);
  return c;
}

const note = (i: number): AgentEvent => ({ kind: 'log', level: 'info', text: `e${i}` });

describe('control server', () => {
  it('listens on a 0600 Unix socket, replacing a stale socket file', async () => {
    // A socket file left behind by a SIGKILLed agent (a clean close would unlink it).
    const killed = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(join(dir, 'control.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(killed.signal).toBe('SIGKILL');
    expect((await stat(join(dir, 'control.sock'))).isSocket()).toBe(true);
    await start();
    expect((await stat(join(dir, 'control.sock'))).mode & 0o777).toBe(0o600);
    const c = await connect();
    c.send({ t: 'ping', id: 7, t0_ms: 123.5 });
    await waitFor('pong', () => c.ofType('pong').length === 1);
    const pong = c.ofType('pong')[0];
    expect(pong).toMatchObject({ id: 7, t0_ms: 123.5 });
    expect(Math.abs((pong?.agent_ms ?? 0) - Date.now())).toBeLessThan(1000);
  });

  it('refuses to remove a control socket path that is not a socket', async () => {
    await writeFile(join(dir, 'control.sock'), 'not a socket');
    await expect(start()).rejects.toThrow(/exists and is not a socket; refusing to remove it/);
    server = null;
  });

  it('answers an invalid frame with an error and keeps serving', async () => {
    await start();
    const c = await connect();
    c.sendRaw(frame({ t: 'launch-missiles' }));
    c.send({ t: 'ping', id: 1, t0_ms: 0 });
    await waitFor(
      'error and pong',
      () => c.ofType('error').length === 1 && c.ofType('pong').length === 1,
    );
    expect(c.ofType('error')[0]?.message).toMatch(/invalid frame/);
    expect(server?.invalidFrames).toBe(1);
    expect(c.closed).toBe(false);
  });

  it('closes only that connection when the byte stream is misaligned', async () => {
    await start();
    const c = await connect();
    c.sendRaw(Buffer.from('\x00\x00\x00\x03{{{'));
    await waitFor('the connection to close', () => c.closed);
    expect(c.ofType('error')[0]?.message).toMatch(/not aligned/);
    const again = await connect();
    again.send({ t: 'ping', id: 2, t0_ms: 0 });
    await waitFor('pong on a new connection', () => again.ofType('pong').length === 1);
  });

  it('hello with lastSeq resends exactly the missing events, then streams live ones', async () => {
    const s = await start();
    for (let i = 1; i <= 10; i++) s.emit(note(i));
    const c = await connect();
    c.send({ t: 'hello', incarnation: 4, lastSeq: 6 });
    await waitFor('welcome and 4 events', () => c.events().length === 4);
    expect(c.ofType('welcome')[0]).toEqual({
      t: 'welcome',
      node: 'n1',
      pid: process.pid,
      version: '9.9.9',
      incarnation: 4,
      firstSeq: 7,
      lastSeq: 10,
    });
    expect(c.events().map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    s.emit(note(11));
    await waitFor('the live event', () => c.events().length === 5);
    expect(c.events()[4]?.e).toEqual(note(11));
    // A reconnect after acking 8 resends 9..11 and nothing else.
    c.send({ t: 'ack', seq: 8 });
    await waitFor('the ack', () => events.ackedSeq === 8);
    c.close();
    const d = await connect();
    d.send({ t: 'hello', incarnation: 4, lastSeq: 8 });
    await waitFor('3 events', () => d.events().length === 3);
    expect(d.events().map((e) => e.seq)).toEqual([9, 10, 11]);
  });

  it('hello for another incarnation gets everything still buffered', async () => {
    const s = await start();
    for (let i = 1; i <= 5; i++) s.emit(note(i));
    events.ack(2);
    const c = await connect();
    c.send({ t: 'hello', incarnation: 3, lastSeq: 4 });
    await waitFor('3 events', () => c.events().length === 3);
    expect(c.events().map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it('a new connection replaces the old one', async () => {
    await start();
    const a = await connect();
    a.send({ t: 'hello', incarnation: 4, lastSeq: 0 });
    await waitFor('welcome', () => a.ofType('welcome').length === 1);
    const b = await connect();
    await waitFor('the old connection to close', () => a.closed);
    b.send({ t: 'ping', id: 1, t0_ms: 0 });
    await waitFor('pong', () => b.ofType('pong').length === 1);
  });

  it('set-links and heal drive the link filter and report link-faults', async () => {
    await start({ handlers: { startWorkload: () => calls.push('start') } });
    const c = await connect();
    c.send({ t: 'hello', incarnation: 4, lastSeq: 0 });
    c.send({
      t: 'set-links',
      faultId: 'part-1',
      rules: [
        { peer: 'n2', direction: 'out', cut: true },
        { peer: 'n2', direction: 'in', cut: true },
      ],
    });
    await waitFor('applied', () => c.events().length === 1);
    expect(filter.planOutgoing('n2')).toEqual([]);
    c.send({ t: 'heal', faultId: 'part-1' });
    await waitFor('healed', () => c.events().length === 2);
    expect(filter.activeFaults()).toBe(0);
    expect(c.events().map((e) => e.e)).toEqual([
      {
        kind: 'link-faults',
        action: 'applied',
        faultId: 'part-1',
        rules: 2,
        reason: 'orchestrator',
      },
      {
        kind: 'link-faults',
        action: 'healed',
        faultId: 'part-1',
        rules: 2,
        reason: 'orchestrator',
      },
    ]);
    c.send({ t: 'start-workload', spec: { clients: 1 } as never });
    c.send({ t: 'shutdown' });
    await waitFor('handlers', () => calls.length === 2);
    expect(calls).toEqual(['start', 'shutdown']);
  });

  it('refuses workload commands on a replica with an error frame', async () => {
    await start();
    const c = await connect();
    c.send({ t: 'stop-workload', drain_ms: 0 });
    await waitFor('error', () => c.ofType('error').length === 1);
    expect(c.ofType('error')[0]?.message).toMatch(/n1 is a replica/);
  });

  it('dead-man switch: heals every link fault after the lease and says so in agent.log', async () => {
    const s = await start({ lease_ms: 200, handlers: { leaseExpired: () => calls.push('lease') } });
    const c = await connect();
    c.send({ t: 'hello', incarnation: 4, lastSeq: 0 });
    c.send({ t: 'set-links', faultId: 'a', rules: [{ peer: 'n2', direction: 'out', cut: true }] });
    c.send({ t: 'set-links', faultId: 'b', rules: [{ peer: 'n3', direction: 'out', loss: 0.5 }] });
    await waitFor('two faults', () => filter.activeFaults() === 2);
    expect(s.leaseArmed).toBe(false);
    c.close();
    await waitFor('the lease to start', () => s.leaseArmed);
    await new Promise((r) => setTimeout(r, 100));
    expect(filter.activeFaults()).toBe(2); // not yet
    await waitFor('the heal', () => filter.activeFaults() === 0, 2_000);
    expect(calls).toEqual(['lease']); // e.g. the agent stops its workload
    const log = await readFile(join(dir, 'agent.log'), 'utf8');
    expect(log).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z lease expired after 200 ms without an orchestrator: healed 2 link faults\n$/,
    );
    const d = await connect();
    d.send({ t: 'hello', incarnation: 4, lastSeq: 0 });
    await waitFor('the lease-expired event', () =>
      d.events().some((e) => e.e.kind === 'lease-expired'),
    );
    expect(d.events().find((e) => e.e.kind === 'lease-expired')?.e).toEqual({
      kind: 'lease-expired',
      healedFaults: 2,
    });
  });
});

function frame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}
