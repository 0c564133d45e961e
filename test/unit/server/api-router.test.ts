import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES } from '../../../src-main/api/api-schema';
import { ApiCallError } from '../../../src-main/server/api-error';
import { prepareFrame, routeFrame, type ApiHandlers } from '../../../src-main/server/api-router';

/** Handlers that answer hello and runs.list, and fail run.stop in two ways. */
function handlers(): ApiHandlers<{ calls: string[] }> {
  const unexpected = (): never => {
    throw new Error('not used in this test');
  };
  return new Proxy(
    {
      hello: ({ apiVersion }: { apiVersion: number }, c: { calls: string[] }) => {
        c.calls.push('hello');
        return { apiVersion, faultlabVersion: 't', runsDir: '/r', desktop: false, notices: [] };
      },
      'runs.list': () => ({ runs: [] }),
      'run.stop': ({ runId }: { runId: string }) => {
        if (runId === 'boom') throw new Error('disk on fire');
        throw new ApiCallError('not-found', `no run "${runId}"`);
      },
    },
    { get: (target, key) => (target as Record<string | symbol, unknown>)[key] ?? unexpected },
  ) as unknown as ApiHandlers<{ calls: string[] }>;
}

describe('api router: every bad frame gets a clear error, nothing throws', () => {
  const ctx = { calls: [] as string[] };

  it('answers a good request', async () => {
    const r = await routeFrame(
      JSON.stringify({ id: 3, method: 'hello', params: { apiVersion: 1 } }),
      handlers(),
      ctx,
    );
    expect(r).toMatchObject({ id: 3, ok: true, result: { apiVersion: 1 } });
  });

  it('malformed JSON → bad-request with id -1', async () => {
    const r = await routeFrame('{"id": 1, "method": ', handlers(), ctx);
    expect(r).toMatchObject({ id: -1, ok: false, error: { code: 'bad-request' } });
    if (!r.ok) expect(r.error.message).toMatch(/malformed JSON/);
  });

  it('a bad envelope keeps the id when it is readable', async () => {
    const r = await routeFrame(JSON.stringify({ id: 9, method: 5 }), handlers(), ctx);
    expect(r).toMatchObject({ id: 9, ok: false, error: { code: 'bad-request' } });
    if (!r.ok) expect(r.error.message).toMatch(/method/);
    const r2 = await routeFrame(
      JSON.stringify({ id: 'x', method: 'hello', params: {} }),
      handlers(),
      ctx,
    );
    expect(r2).toMatchObject({ id: -1, ok: false });
  });

  it('unknown method → unknown-method naming it and the known ones', async () => {
    const r = await routeFrame(
      JSON.stringify({ id: 4, method: 'run.explode', params: {} }),
      handlers(),
      ctx,
    );
    expect(r).toMatchObject({ id: 4, ok: false, error: { code: 'unknown-method' } });
    if (!r.ok) {
      expect(r.error.message).toContain('run.explode');
      expect(r.error.message).toContain('run.start');
    }
  });

  it('bad params → bad-request naming the field', async () => {
    const r = await routeFrame(
      JSON.stringify({ id: 5, method: 'hello', params: { apiVersion: 'one' } }),
      handlers(),
      ctx,
    );
    expect(r).toMatchObject({ id: 5, ok: false, error: { code: 'bad-request' } });
    if (!r.ok) expect(r.error.message).toMatch(/hello.*apiVersion/);
    const extra = await routeFrame(
      JSON.stringify({ id: 6, method: 'runs.list', params: { x: 1 } }),
      handlers(),
      ctx,
    );
    expect(extra).toMatchObject({ id: 6, ok: false, error: { code: 'bad-request' } });
  });

  it('handler errors become failed / their own code, and the next request still works', async () => {
    const h = handlers();
    expect(
      await routeFrame(
        JSON.stringify({ id: 7, method: 'run.stop', params: { runId: 'boom' } }),
        h,
        ctx,
      ),
    ).toMatchObject({
      id: 7,
      ok: false,
      error: { code: 'failed', message: 'run.stop failed: disk on fire' },
    });
    expect(
      await routeFrame(
        JSON.stringify({ id: 8, method: 'run.stop', params: { runId: 'r1' } }),
        h,
        ctx,
      ),
    ).toMatchObject({
      id: 8,
      ok: false,
      error: { code: 'not-found' },
    });
    expect(
      await routeFrame(JSON.stringify({ id: 9, method: 'runs.list', params: {} }), h, ctx),
    ).toMatchObject({
      id: 9,
      ok: true,
    });
  });

  it('refuses a frame over MAX_REQUEST_BYTES without parsing it', async () => {
    const big = JSON.stringify({
      id: 1,
      method: 'hello',
      params: { pad: 'x'.repeat(MAX_REQUEST_BYTES) },
    });
    const r = await routeFrame(big, handlers(), ctx);
    expect(r).toMatchObject({ id: -1, ok: false, error: { code: 'bad-request' } });
    if (!r.ok) expect(r.error.message).toMatch(/exceeds the limit/);
  });
});

describe('api router: prepareFrame parses now and runs the handler later', () => {
  it('names the method of a good frame and calls its handler only on respond()', async () => {
    const ctx = { calls: [] as string[] };
    const frame = prepareFrame(
      JSON.stringify({ id: 4, method: 'hello', params: { apiVersion: 1 } }),
      handlers(),
      ctx,
    );
    expect(frame.method).toBe('hello');
    expect(ctx.calls).toEqual([]);
    expect(await frame.respond()).toMatchObject({ id: 4, ok: true });
    expect(ctx.calls).toEqual(['hello']);
  });

  it('has no method for a frame that names none (its error is ready at once)', async () => {
    const frame = prepareFrame('not json', handlers(), { calls: [] });
    expect(frame.method).toBeNull();
    expect(await frame.respond()).toMatchObject({
      id: -1,
      ok: false,
      error: { code: 'bad-request' },
    });
  });
});

describe('api router: secrets never come back in errors', () => {
  it('does not quote an invalid passphrase in the bad-params message', async () => {
    const secret = `correct horse battery staple ${'x'.repeat(1100)}`;
    const r = await routeFrame(
      JSON.stringify({
        id: 5,
        method: 'ssh.passphrase',
        params: { requestId: 'q', passphrase: secret },
      }),
      handlers(),
      { calls: [] },
    );
    expect(r).toMatchObject({ id: 5, ok: false, error: { code: 'bad-request' } });
    const text = JSON.stringify(r);
    expect(text).not.toContain('correct horse');
    expect(text).toMatch(/passphrase/);
  });
});
