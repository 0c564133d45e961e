import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiCallError } from '../../../src-renderer/api/api-call-error';
import { ApiClient, MAX_QUEUED_CALLS } from '../../../src-renderer/api/client';
import type { ApiPush } from '../../../src-main/api/api-schema';
import { socketFactory } from './fake-socket';
import { crash, metrics } from './records';

const HELLO = {
  apiVersion: 1,
  faultlabVersion: '0.1.0',
  runsDir: '/runs',
  desktop: false,
  notices: [],
  testbeds: [],
};

function setup(options: { callTimeout_ms?: number } = {}) {
  const factory = socketFactory();
  const client = new ApiClient({
    url: 'ws://127.0.0.1:5199/api',
    createSocket: factory.create,
    callTimeout_ms: options.callTimeout_ms ?? 1_000,
    random: () => 0.5,
  });
  client.connect();
  const socket = () => {
    const s = factory.sockets[factory.sockets.length - 1];
    if (s === undefined) throw new Error('no socket yet');
    return s;
  };
  return { client, factory, socket };
}

describe('ApiClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('builds the api URL on the page origin', () => {
    expect(ApiClient.urlFor({ protocol: 'http:', host: '127.0.0.1:5199' })).toBe(
      'ws://127.0.0.1:5199/api',
    );
    expect(ApiClient.urlFor({ protocol: 'https:', host: 'lab.example' })).toBe(
      'wss://lab.example/api',
    );
  });

  it('sends calls with increasing ids and resolves them with the validated result', async () => {
    const { client, socket } = setup();
    socket().serverOpens();
    const hello = client.call('hello', { apiVersion: 1 });
    const first = socket().lastRequest();
    expect(first).toMatchObject({ method: 'hello', params: { apiVersion: 1 } });
    socket().answer(HELLO);
    await expect(hello).resolves.toEqual(HELLO);
    void client.call('labs.list', {}).catch(() => undefined);
    expect(socket().lastRequest().id).toBeGreaterThan(first.id);
    client.dispose();
  });

  it('queues calls made before the socket opens and sends them on open', async () => {
    const { client, socket } = setup();
    const pending = client.call('labs.list', {});
    expect(socket().sent).toHaveLength(0);
    socket().serverOpens();
    expect(socket().lastRequest().method).toBe('labs.list');
    socket().answer({ labs: [], errors: [] });
    await expect(pending).resolves.toEqual({ labs: [], errors: [] });
    client.dispose();
  });

  it('rejects with the server error code and message', async () => {
    const { client, socket } = setup();
    socket().serverOpens();
    const call = client.call('run.stop', { runId: 'nope' });
    socket().serverSends({
      id: socket().lastRequest().id,
      ok: false,
      error: { code: 'not-found', message: 'no run nope' },
    });
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiCallError);
    expect(error).toMatchObject({ code: 'not-found', method: 'run.stop' });
    expect((error as Error).message).toContain('no run nope');
    client.dispose();
  });

  it('rejects a result that breaks the contract as bad-response', async () => {
    const { client, socket } = setup();
    socket().serverOpens();
    const call = client.call('hello', { apiVersion: 1 });
    socket().answer({ apiVersion: 'one' });
    await expect(call).rejects.toMatchObject({ code: 'bad-response' });
    client.dispose();
  });

  it('times out a call nobody answers, naming the method and what to check', async () => {
    const { client, socket } = setup({ callTimeout_ms: 500 });
    socket().serverOpens();
    const call = client.call('labs.list', {});
    const caught = call.catch((e: unknown) => e);
    vi.advanceTimersByTime(501);
    const error = (await caught) as ApiCallError;
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/labs\.list: no answer .* 500 ms/);
    // A late answer for a timed-out call is ignored, not an error.
    socket().serverSends({
      id: socket().lastRequest().id,
      ok: true,
      result: { labs: [], errors: [] },
    });
    client.dispose();
  });

  it('fails sent calls on disconnect, reconnects with backoff and reports each state', async () => {
    const { client, factory, socket } = setup();
    const states: string[] = [];
    client.onStatus((s) => states.push(s.state));
    socket().serverOpens();
    const inFlight = client.call('labs.list', {});
    socket().serverCloses(1006, 'gone');
    await expect(inFlight).rejects.toMatchObject({ code: 'disconnected' });
    expect(client.connection.state).toBe('reconnecting');
    expect(client.connection.reason).toContain('cannot be reached');
    expect(factory.sockets).toHaveLength(1);
    // attempt 1 waits the base delay (250 ms with jitter factor 1.0 at random 0.5).
    vi.advanceTimersByTime(249);
    expect(factory.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(factory.sockets).toHaveLength(2);
    // The next failure waits longer.
    socket().serverCloses(1006);
    expect(client.connection.attempt).toBe(2);
    vi.advanceTimersByTime(499);
    expect(factory.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(factory.sockets).toHaveLength(3);
    socket().serverOpens();
    expect(states).toEqual(['open', 'reconnecting', 'reconnecting', 'open']);
    client.dispose();
  });

  it('says to reopen the printed URL when the server refuses the token', () => {
    const { client, socket } = setup();
    socket().serverCloses(1008, 'unauthorized');
    expect(client.connection.reason).toContain('faultlab serve');
    client.dispose();
  });

  it('bounds the calls queued while disconnected', async () => {
    const { client } = setup();
    const queued = Array.from({ length: MAX_QUEUED_CALLS }, () =>
      client.call('labs.list', {}).catch(() => undefined),
    );
    await expect(client.call('labs.list', {})).rejects.toMatchObject({ code: 'queue-full' });
    client.dispose();
    await Promise.all(queued);
  });

  it('dispatches pushes and reports malformed frames without dropping the connection', () => {
    const { client, socket } = setup();
    socket().serverOpens();
    const pushes: ApiPush[] = [];
    const errors: string[] = [];
    client.onPush((p) => pushes.push(p));
    client.onProtocolError((m) => errors.push(m));
    const stream = { kind: 'run', runId: 'r1' } as const;
    socket().serverSends({
      push: 'records',
      stream,
      records: [metrics('w1', 250, 5), crash('n1', 300)],
    });
    socket().serverSends('not json');
    socket().serverSends({ push: 'records', stream, records: [{ type: 'metrics', t_ms: 1 }] });
    socket().serverSends({ push: 'run-info', info: { runId: 'r1' } });
    socket().serverSends({
      push: 'checks',
      runId: 'r1',
      checks: [{ name: 'agreement', verdict: 'pass', detail: 'ok' }],
    });
    expect(pushes.map((p) => p.push)).toEqual(['records', 'checks']);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain('not JSON');
    expect(errors[1]).toMatch(/record 0 of 1 does not match the record schema/);
    expect(errors[2]).toContain('malformed push');
    expect(client.connection.state).toBe('open');
    client.dispose();
  });

  it('checks only the first and last record of a batch (the hot path)', () => {
    const { client, socket } = setup();
    socket().serverOpens();
    const errors: string[] = [];
    let records = 0;
    client.onProtocolError((m) => errors.push(m));
    client.onPush((p) => {
      if (p.push === 'records') records += p.records.length;
    });
    const stream = { kind: 'run', runId: 'r1' } as const;
    const middleIsOdd = { ...metrics('w1', 2, 1), extra: true };
    socket().serverSends({
      push: 'records',
      stream,
      records: [metrics('w1', 1, 1), middleIsOdd, metrics('w1', 3, 1)],
    });
    socket().serverSends({ push: 'records', stream, records: [metrics('w1', 4, 1), middleIsOdd] });
    expect(records).toBe(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('record 1 of 2');
    client.dispose();
  });

  it('rejects everything pending when disposed and stops reconnecting', async () => {
    const { client, factory, socket } = setup();
    socket().serverOpens();
    const call = client.call('labs.list', {});
    client.dispose();
    await expect(call).rejects.toMatchObject({ code: 'disconnected' });
    vi.advanceTimersByTime(60_000);
    expect(factory.sockets).toHaveLength(1);
    await expect(client.call('labs.list', {})).rejects.toMatchObject({ code: 'disconnected' });
  });
});
