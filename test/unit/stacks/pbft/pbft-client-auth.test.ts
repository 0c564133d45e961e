import { describe, expect, it } from 'vitest';
import type { ClientRequest } from '../../../../src-node-agent/core/protocol';
import type { KvOp } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { canonicalJson } from '../../../../src-node-agent/stacks/pbft/authenticator';
import { requestText } from '../../../../src-node-agent/stacks/pbft/client-auth';
import { commandDigest } from '../../../../src-node-agent/stacks/pbft/command-digest';
import { Prng } from '../../../../src-node-agent/sim/prng';
import type { Command } from '../../../../src-node-agent/stacks/pbft/messages';
import { Cluster, put } from './pbft-harness';
import { completedBetween, pbftSim, safetyProblem, testSeed } from './pbft-sim';

/** Paper, section 4.1: a client's request carries its MAC authenticator, one MAC per replica. */

const batch = (...reqs: ClientRequest<KvOp>[]): Command => ({ type: 'batch', reqs });
const prepares = (c: Cluster, from: string) =>
  c.sent.filter((e) => e.from === from && e.msg.t === 'prepare');

describe('PBFT client request authentication', () => {
  it('a Byzantine primary cannot order a request the client did not send: backups refuse the pre-prepare', () => {
    const c = new Cluster({}, ['n1']);
    const genuine = put('c1', 1, 'x', 'A');
    // The primary alters the client's value, keeping the client's authenticator …
    const altered = { ...genuine, op: { f: 'put', key: 'x', value: 'EVIL' } } as const;
    // … or makes up a request in the client's name without one.
    const madeUp: ClientRequest<KvOp> = { client: 'c2', seq: 1, op: { f: 'get', key: 'x' } };
    for (const [seq, req] of [
      [1, altered],
      [2, madeUp],
    ] as const) {
      const cmd = batch(put('c3', seq, 'y', 'ok'), req);
      for (const to of ['n2', 'n3', 'n4']) {
        c.inject('n1', to, { t: 'pre-prepare', view: 0, seq, digest: commandDigest(cmd), cmd });
      }
    }
    c.deliver();
    for (const id of ['n2', 'n3', 'n4']) {
      expect(prepares(c, id), `${id} prepared a forged request`).toHaveLength(0);
      expect(c.replica(id).inspect()['rejectedMacs']).toBe(2);
      expect(c.eventsOf('rejected-input', id).map((e) => JSON.stringify(e.event))).toEqual([
        expect.stringMatching(/bad client MAC on request c1#1/),
        expect.stringMatching(/bad client MAC on request c2#1/),
      ]);
    }
    // The genuine request in a pre-prepare is accepted.
    const cmd = batch(genuine);
    c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 3, digest: commandDigest(cmd), cmd });
    expect(prepares(c, 'n2')).toHaveLength(3);
  });

  it('a request without a valid client MAC is refused at the primary and when a backup relays it', () => {
    const c = new Cluster();
    const unsigned: ClientRequest<KvOp> = { client: 'c1', seq: 1, op: { f: 'get', key: 'x' } };
    c.request('n1', unsigned);
    expect(c.sent.filter((e) => e.msg.t === 'pre-prepare')).toHaveLength(0);
    // A faulty backup relays a tampered request to the primary.
    const tampered = { ...put('c1', 2, 'x', 'A'), seq: 3 };
    c.inject('n2', 'n1', { t: 'request', req: tampered });
    expect(c.sent.filter((e) => e.msg.t === 'pre-prepare')).toHaveLength(0);
    expect(c.replica('n1').inspect()['rejectedMacs']).toBe(2);
    expect(c.eventsOf('rejected-input', 'n1')).toHaveLength(2);
    // The primary keeps serving signed requests.
    c.request('n1', put('c1', 1, 'x', 'A'));
    c.deliver();
    expect(c.replica('n1').inspect().executed).toBe(1);
  });

  it('in the simulator clients sign their requests; an unsigned one is refused by the schema', () => {
    const sim = pbftSim({ seed: testSeed(4, 'pbft client auth in the simulator') });
    sim.runUntil(100_000);
    sim.injectRaw('n1', 'c9', { client: 'c9', seq: 1, op: { f: 'get', key: 'x' } }, true);
    sim.runUntil(300_000);
    expect(sim.rejectedInputs()).toBe(1);
    expect(completedBetween(sim, 100, 300)).toBeGreaterThan(10);
    expect(safetyProblem(sim)).toBeNull();
  });
});

describe('the written-out encoding of get and put requests', () => {
  it('equals canonical JSON byte for byte, and declines every other shape', () => {
    const seed = Number(process.env['SEED'] ?? 5);
    console.log(`request encoding: seed ${seed} (SEED=... to change)`);
    const prng = new Prng(seed);
    const strings = ['', 'k1', 'a"b', 'é→😀', '\\n', 'x'.repeat(300)];
    const values: unknown[] = [null, 0, -1.5, 1e21, 42, ...strings, undefined, true, { a: 1 }];
    let written = 0;
    for (let i = 0; i < 5_000; i++) {
      const f = ['get', 'put', 'add', 'cas'][prng.int(4)];
      const op: Record<string, unknown> = { f, key: strings[prng.int(strings.length)] };
      if (f !== 'get' || prng.int(4) === 0) op['value'] = values[prng.int(values.length)];
      if (prng.int(10) === 0) op['extra'] = 1;
      const seq = [1, 7, 2 ** 40, 1.5, Number.NaN][prng.int(5)] as number;
      const req = { client: strings[prng.int(strings.length)] as string, seq, op } as never;
      const text = requestText(req);
      if (text === null) continue;
      written++;
      expect(text).toBe(canonicalJson(req));
    }
    expect(written).toBeGreaterThan(1_000);
  });
});
