import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../src-node-agent/control/frames';
import { workloadSpecSchema } from '../../../src-node-agent/control/workload-spec';
import type { ClientRequest } from '../../../src-node-agent/core/protocol';
import { DurableStore } from '../../../src-node-agent/runtime/durable-store';
import { ReplicaHost } from '../../../src-node-agent/runtime/replica-host';
import { WorkloadOps, ZipfSampler } from '../../../src-node-agent/runtime/workload-ops';
import { WorkloadRunner } from '../../../src-node-agent/runtime/workload-runner';
import { Prng } from '../../../src-node-agent/sim/prng';
import { getStack } from '../../../src-node-agent/stacks';
import { waitFor } from './support/net';

const stack = getStack('paxos');
const config = stack.configSchema.parse({ clientRetry_ms: 50 });
const disposers: (() => void)[] = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});

type HistoryEntry = Extract<AgentEvent, { kind: 'history' }>['entry'];

/** A workload runner wired in-process to a one-replica Paxos cluster (or to nothing). */
async function setup(connected = true) {
  const events: AgentEvent[] = [];
  const latencies: number[] = [];
  const store = await DurableStore.open('/unused', 'memory');
  let runner: WorkloadRunner | null = null;
  const host = new ReplicaHost({
    stack,
    config,
    self: 'n1',
    servers: ['n1'],
    network: {
      sendMessage: () => undefined,
      sendReply: (r) =>
        setImmediate(() => runner?.deliverReply('n1', JSON.parse(JSON.stringify(r)))),
    },
    storage: store,
    emit: () => undefined,
    onFatal: (err) => {
      throw err;
    },
  });
  host.start(null);
  runner = new WorkloadRunner({
    stack,
    config,
    node: 'w1',
    incarnation: 3,
    servers: ['n1'],
    network: {
      sendRequest: (_to, req: ClientRequest<unknown>) => {
        if (connected) setImmediate(() => host.deliverRequest(JSON.parse(JSON.stringify(req))));
      },
    },
    emit: (e) => events.push(e),
    onLatency: (us) => latencies.push(us),
    onFatal: (err) => {
      throw err;
    },
  });
  disposers.push(() => {
    runner?.dispose();
    host.stop();
  });
  const history = (): HistoryEntry[] =>
    events.filter((e) => e.kind === 'history').map((e) => (e as { entry: HistoryEntry }).entry);
  return { runner, events, latencies, history };
}

describe('workload runner', () => {
  it('closed loop: every client invokes, completes, and invokes again; ids are unique per start', async () => {
    const { runner, latencies, history } = await setup();
    runner.start(workloadSpecSchema.parse({ clients: 4, keys: 5, seed: 9 }));
    await waitFor('100 completed operations', () => runner.completed >= 100);
    const stopped = await runner.stop(1_000);
    expect(stopped).toBe(0);
    const h = history();
    const processes = new Set(h.map((e) => e.process));
    expect([...processes].sort()).toEqual(['w1.3.1.c0', 'w1.3.1.c1', 'w1.3.1.c2', 'w1.3.1.c3']);
    // Each invoke is followed by exactly one completion of the same opId, per client in turn.
    for (const p of processes) {
      const mine = h.filter((e) => e.process === p);
      for (let i = 0; i < mine.length; i += 2) {
        expect(mine[i]?.type).toBe('invoke');
        expect(mine[i + 1]).toMatchObject({ type: 'ok', opId: mine[i]?.opId });
        expect((mine[i + 1]?.time_us ?? 0) >= (mine[i]?.time_us ?? 0)).toBe(true);
      }
    }
    expect(latencies.length).toBe(runner.completed);
    expect(Math.abs((h[0]?.time_us ?? 0) / 1000 - Date.now())).toBeLessThan(10_000);
    runner.start(workloadSpecSchema.parse({ clients: 1 }));
    await waitFor('the second start', () => history().some((e) => e.process === 'w1.3.2.c0'));
  });

  it('stop records outstanding operations as unknown after the drain', async () => {
    const { runner, events, history } = await setup(false);
    runner.start(workloadSpecSchema.parse({ clients: 3 }));
    const t0 = Date.now();
    expect(await runner.stop(100)).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(history().filter((e) => e.type === 'unknown')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ kind: 'workload-stopped', unknown: 3 });
    expect(runner.running).toBe(false);
  });

  it('open loop: offers rate_per_s in total and skips the turns of busy clients', async () => {
    const { runner, history } = await setup(false); // nothing completes: every client stays busy
    runner.start(workloadSpecSchema.parse({ clients: 2, mode: 'open', rate_per_s: 200 }));
    await new Promise((r) => setTimeout(r, 300));
    await runner.stop(0);
    expect(history().filter((e) => e.type === 'invoke')).toHaveLength(2);
    expect(runner.skipped).toBeGreaterThan(30);
  });

  it('refuses a second start and an open loop without a rate', async () => {
    const { runner } = await setup();
    expect(() => runner.start(workloadSpecSchema.parse({ clients: 1, mode: 'open' }))).toThrow(
      /rate_per_s/,
    );
    runner.start(workloadSpecSchema.parse({ clients: 1 }));
    expect(() => runner.start(workloadSpecSchema.parse({ clients: 1 }))).toThrow(/already running/);
  });

  it('ops follow the spec: seeded, keys k1..kN, only the kinds in the mix', () => {
    const spec = workloadSpecSchema.parse({
      clients: 1,
      keys: 3,
      mix: { get: 1, put: 1 },
      seed: 5,
    });
    const a = new WorkloadOps(spec, 0);
    const b = new WorkloadOps(spec, 0);
    const opsA = Array.from({ length: 200 }, () => a.next('x'));
    expect(Array.from({ length: 200 }, () => b.next('x'))).toEqual(opsA);
    expect(new Set(opsA.map((o) => o.f))).toEqual(new Set(['get', 'put']));
    expect(new Set(opsA.map((o) => o.key))).toEqual(new Set(['k1', 'k2', 'k3']));
  });

  it('zipf keys are skewed toward k1', () => {
    const prng = new Prng(3);
    const z = new ZipfSampler(1000, 0.99, () => prng.float());
    const counts = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const k = z.sample();
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(Math.min(...counts.keys())).toBe(1);
    expect(Math.max(...counts.keys())).toBeLessThanOrEqual(1000);
    expect([...counts.keys()].every(Number.isInteger)).toBe(true);
    const c1 = counts.get(1) ?? 0;
    const c10 = counts.get(10) ?? 0;
    // P(k) ∝ 1/k^0.99: k1 about 9.8× as frequent as k10, and ~13% of all draws.
    expect(c1 / c10).toBeGreaterThan(7);
    expect(c1 / c10).toBeLessThan(13);
    expect(c1 / 50_000).toBeGreaterThan(0.11);
    expect(c1 / 50_000).toBeLessThan(0.16);
  });
});
