/**
 * The http + WebSocket front door on loopback: token, Host and Origin checks, static files
 * with security headers, path traversal, and an api connection that survives bad frames.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES } from '../../../src-main/api/api-schema';
import { startApiServer, type ApiServer } from '../../../src-main/server/api-server';
import { ApiTestClient, wsUrl } from '../../integration/server/api-test-client';

let dir = '';
let server: ApiServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultlab-server-'));
  await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'TOP-SECRET-CONTENT');
  server = await startApiServer({
    port: 0,
    runsDir: join(dir, 'runs'),
    labsDir: resolve('labs'),
    rendererRoot: join(dir, 'renderer'),
    version: 'test',
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        headers: { host: `127.0.0.1:${server.port}`, ...headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('api server: the front door', () => {
  it('refuses a request without the token with 401 and a short text', async () => {
    const r = await get('/');
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/token/);
    expect((await get('/assets/app.js')).status).toBe(401);
  });

  it('serves the page for ?token=, sets the cookie, and sends the security headers', async () => {
    const r = await get(`/?token=${server.token}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>t</title>');
    expect(String(r.headers['set-cookie'])).toMatch(/faultlab_token=.*HttpOnly.*SameSite=Strict/);
    expect(r.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(r.headers['content-security-policy']).toContain(`ws://127.0.0.1:${server.port}`);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    const asset = await get('/assets/app.js', { cookie: `faultlab_token=${server.token}` });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('refuses a foreign Host (DNS rebinding) with 403', async () => {
    const r = await get(`/?token=${server.token}`, { host: `evil.example:${server.port}` });
    expect(r.status).toBe(403);
  });

  it('refuses path traversal', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await get(`${p}?token=${server.token}`);
      expect(r.status, p).not.toBe(200);
      expect(r.body).not.toContain('TOP-SECRET-CONTENT');
    }
  });

  it('refuses a WebSocket from another origin or without the token', async () => {
    const { url } = wsUrl(server.origin, server.token);
    await expect(ApiTestClient.connect(url, { Origin: 'http://evil.example' })).rejects.toThrow(
      /403/,
    );
    await expect(
      ApiTestClient.connect(url.replace(/token=.*/, 'token=nope'), { Origin: server.origin }),
    ).rejects.toThrow(/401/);
  });

  it('answers malformed frames with errors and keeps the connection and server up', async () => {
    const { url, headers } = wsUrl(server.origin, server.token);
    const client = await ApiTestClient.connect(url, headers);
    try {
      client.sendRaw('{not json');
      const r1 = await client.nextOrphan();
      expect(r1).toMatchObject({ id: -1, ok: false, error: { code: 'bad-request' } });
      const r2 = await client.call('no.such' as 'hello', { apiVersion: 1 });
      expect(r2).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
      const r3 = await client.call('run.fault', { runId: 'x', fault: { type: 'crash' } } as never);
      expect(r3).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      if (!r3.ok) expect(r3.error.message).toMatch(/run\.fault/);
      client.sendRaw(
        JSON.stringify({ id: 77, method: 'hello', params: { pad: 'x'.repeat(MAX_REQUEST_BYTES) } }),
      );
      expect(await client.nextOrphan()).toMatchObject({
        ok: false,
        error: { code: 'bad-request' },
      });
      const hello = await client.ok('hello', { apiVersion: 1 });
      expect(hello.faultlabVersion).toBe('test');
      const missing = await client.call('run.stop', { runId: 'nope' });
      expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(hello.testbeds.map((t) => t.kind)).toEqual(['local', 'netns', 'ssh']);
      // An SSH run without hosts is refused before anything starts, saying what to give.
      const ssh = await client.call('run.start', {
        labPath: 'labs/paxos-leader-crash/lab.yaml',
        testbed: 'ssh',
      });
      expect(ssh).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      if (!ssh.ok) expect(ssh.error.message).toMatch(/needs an inventory/);
      const outside = await client.call('run.start', { labPath: '../../etc/lab.yaml' });
      expect(outside).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      const badRec = await client.call('playback.open', { recordingId: '../../etc' });
      expect(badRec).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    } finally {
      client.close();
    }
    // The server still serves a fresh connection.
    const again = await ApiTestClient.connect(url, headers);
    expect((await again.ok('runs.list', {})).runs).toEqual([]);
    again.close();
  });

  it('returns lab load errors verbatim, naming file and line', async () => {
    const bad = join(dir, 'bad-lab.yaml');
    await writeFile(bad, 'version: 1\nname: Bad Name\n');
    const { url, headers } = wsUrl(server.origin, server.token);
    const client = await ApiTestClient.connect(url, headers);
    try {
      const r = await client.call('run.start', { labPath: bad });
      expect(r).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      if (!r.ok) expect(r.error.message).toContain(`${bad}:`);
    } finally {
      client.close();
    }
  });
});

describe('api server: per-connection resources', () => {
  it('kills a terminal shell when its connection closes', async () => {
    const { url, headers } = wsUrl(server.origin, server.token);
    const client = await ApiTestClient.connect(url, headers);
    const term = await client.ok('terminal.open', {
      target: { kind: 'local' },
      cols: 80,
      rows: 24,
    });
    expect(term.title).toBe('local shell');
    await client.ok('terminal.input', { terminalId: term.terminalId, data: 'echo "pid=$$."\r' });
    const push = await client.waitForPush(
      (p) => p.push === 'terminal-data' && /pid=\d+\./.test(p.data),
      10_000,
    );
    const pid = Number(/pid=(\d+)\./.exec(push.push === 'terminal-data' ? push.data : '')?.[1]);
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 0); // alive now
    client.close();
    const deadline = Date.now() + 5_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
    }
    expect(alive, `shell ${pid} outlived its connection`).toBe(false);
  });
});

const noKeygen = spawnSync('ssh-keygen', ['-?']).error !== undefined;
if (noKeygen)
  console.warn(
    'skipping the long-preflight test: ssh-keygen is missing (apt-get install openssh-client)',
  );

describe.skipIf(noKeygen)('api server: a long preflight does not hold up the page', () => {
  it('answers other requests while preflight.run waits on a host that never speaks SSH', async () => {
    // A "host" that accepts TCP and says nothing: the SSH handshake waits until its timeout.
    const silent = createServer(() => undefined);
    const sockets = new Set<Socket>();
    silent.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const key = join(dir, 'client_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { timeout: 10_000 });
    const inventory = join(dir, 'silent.yaml');
    await writeFile(
      inventory,
      `hosts:\n  - name: mute\n    host: 127.0.0.1\n    port: ${port}\n    user: root\n    identityFile: ${key}\n`,
    );
    const { url, headers } = wsUrl(server.origin, server.token);
    const client = await ApiTestClient.connect(url, headers);
    try {
      const preflight = client.call('preflight.run', { testbed: 'ssh', inventory });
      // Wait until the server has the host's connection, so the preflight is really pending.
      const deadline = Date.now() + 10_000;
      while (sockets.size === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sockets.size).toBeGreaterThan(0);
      const t0 = performance.now();
      expect((await client.ok('runs.list', {})).runs).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(2_000);
      // A second preflight is fine; a third while two run is refused (bounded per page).
      const second = client.call('preflight.run', { testbed: 'ssh', inventory });
      const third = await client.call('preflight.run', { testbed: 'ssh', inventory });
      expect(third).toMatchObject({ ok: false, error: { code: 'conflict' } });
      // The host hangs up: both preflights end, the host failing its reachable check.
      for (const s of sockets) s.destroy();
      silent.close();
      for (const pending of [preflight, second]) {
        const r = await pending;
        expect(r.ok, JSON.stringify(r)).toBe(true);
        expect(r).toMatchObject({
          result: { ok: false, checks: [{ check: 'reachable', status: 'fail' }] },
        });
      }
    } finally {
      client.close();
      silent.close();
    }
  }, 60_000);
});
