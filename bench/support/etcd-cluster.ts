import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src-main/testbeds/local/free-port';
import { percentile } from '../../src-main/cli/stats';
import type { LoadPoint } from './paxos-point';

export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A 3-member etcd cluster on loopback, its processes tracked by PID, data in a temp dir. */
export class EtcdCluster {
  readonly clientUrls: string[] = [];
  private readonly children: ChildProcess[] = [];
  private dir = '';

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'faultlab-etcd-'));
    const members = await Promise.all(
      [1, 2, 3].map(async (i) => ({
        name: `m${i}`,
        client: await freePort(),
        peer: await freePort(),
      })),
    );
    const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
    for (const m of members) {
      const url = `http://127.0.0.1:${m.client}`;
      this.clientUrls.push(url);
      this.children.push(
        spawn(
          'etcd',
          [
            '--name',
            m.name,
            '--data-dir',
            join(this.dir, m.name),
            '--listen-client-urls',
            url,
            '--advertise-client-urls',
            url,
            '--listen-peer-urls',
            `http://127.0.0.1:${m.peer}`,
            '--initial-advertise-peer-urls',
            `http://127.0.0.1:${m.peer}`,
            '--initial-cluster',
            initial,
            '--initial-cluster-state',
            'new',
            '--initial-cluster-token',
            'faultlab-bench',
            '--log-level',
            'error',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await post(
          this.clientUrls[0] as string,
          '/v3/kv/put',
          { key: b64('probe'), value: b64('1') },
          new Agent(),
        );
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`etcd cluster did not become ready: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async stop(): Promise<void> {
    for (const c of this.children)
      if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(
      this.children.map((c) =>
        c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null,
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Closed-loop clients, 50% put / 50% linearizable get over 1000 keys, spread over members. */
  async load(clients: number, duration_ms: number, warmup_ms: number): Promise<LoadPoint> {
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const started = performance.now();
    const latencies_ms: number[] = [];
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    let rng = 12345;
    const next = (): number => (rng = (rng * 1103515245 + 12345) % 2147483648);
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const url = this.clientUrls[i % this.clientUrls.length] as string;
        while (performance.now() - started < duration_ms) {
          const key = b64(`k${next() % 1000}`);
          const t0 = performance.now();
          if (next() % 2 === 0)
            await post(url, '/v3/kv/put', { key, value: b64(String(next())) }, agent);
          else await post(url, '/v3/kv/range', { key }, agent);
          const t1 = performance.now();
          if (t0 - started >= warmup_ms) {
            latencies_ms.push(t1 - t0);
            first = Math.min(first, t1);
            last = Math.max(last, t1);
          }
        }
      }),
    );
    agent.destroy();
    latencies_ms.sort((a, b) => a - b);
    const seconds = (last - first) / 1000;
    return {
      opsPerSecond: seconds > 0 ? latencies_ms.length / seconds : 0,
      p50_ms: percentile(latencies_ms, 50),
      p99_ms: percentile(latencies_ms, 99),
      ops: latencies_ms.length,
    };
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function post(base: string, path: string, body: unknown, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`etcd answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
