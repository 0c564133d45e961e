import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KvOp, KvOutput } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { kvWorkload } from '../../../../src-node-agent/sim/kv-workload';
import { Simulator } from '../../../../src-node-agent/sim/simulator';
import { pbftStackWith } from '../../../../src-node-agent/stacks/pbft';
import {
  createReplicaAuth,
  type SignatureScheme,
} from '../../../../src-node-agent/stacks/pbft/auth-scheme';
import { pbftConfigSchema } from '../../../../src-node-agent/stacks/pbft/config';
import { commandDigest } from '../../../../src-node-agent/stacks/pbft/command-digest';
import type {
  Command,
  PbftMessage,
  SignedViewChange,
} from '../../../../src-node-agent/stacks/pbft/messages';
import { decideNewView } from '../../../../src-node-agent/stacks/pbft/new-view';
import { Cluster, put, SERVERS } from './pbft-harness';
import { completedBetween, pbftSim, protocolEvents, safetyProblem, testSeed } from './pbft-sim';

/** Signature mode (params auth: 'ed25519'), for comparison with MAC authenticators. */

const batch = (...reqs: ReturnType<typeof put>[]): Command => ({ type: 'batch', reqs });

describe('PBFT signature mode (Ed25519)', () => {
  it('a message with a forged signature is dropped and counted as a detected fault', () => {
    const c = new Cluster({ auth: 'ed25519' }, ['n1']);
    const cmd = batch(put('c1', 1, 'x', 'A'));
    const body = { t: 'pre-prepare', view: 0, seq: 1, digest: commandDigest(cmd), cmd } as const;
    // n3 signs, claiming to be the primary n1: only n1's key makes n1's signature.
    const byN3 = createReplicaAuth('n3', SERVERS, c.config).sign(body);
    c.replica('n2').onMessage('n1', { ...body, auth: byN3 });
    // A MAC authenticator where a signature belongs, and garbage of the right length.
    const macs = createReplicaAuth('n1', SERVERS, { ...c.config, auth: 'mac' }).sign(body);
    c.replica('n2').onMessage('n1', { ...body, auth: macs });
    c.replica('n2').onMessage('n1', { ...body, auth: ['z'.repeat(128)] });
    c.collect();
    expect(c.sent.filter((e) => e.from === 'n2')).toHaveLength(0);
    expect(c.replica('n2').inspect()['rejectedMacs']).toBe(3);
    expect(c.eventsOf('rejected-input', 'n2').map((e) => JSON.stringify(e.event))).toEqual([
      expect.stringMatching(/bad signature on pre-prepare/),
      expect.stringMatching(/bad signature on pre-prepare/),
      expect.stringMatching(/bad signature on pre-prepare/),
    ]);
    c.inject('n1', 'n2', body);
    expect(c.sent.filter((e) => e.from === 'n2' && e.msg.t === 'prepare')).toHaveLength(3);
  });

  it('VIEW-CHANGEs are transferable: a backup checks every one a NEW-VIEW carries and refuses one the new primary altered', () => {
    // n2, the primary of view 1, is played by the test. n1, n3 and n4 executed a request, so
    // each VIEW-CHANGE carries its prepare certificate. A Byzantine new primary that drops
    // that certificate from n4's VIEW-CHANGE keeps n4's signature, which no longer matches.
    const c = new Cluster({ auth: 'ed25519' }, ['n2']);
    c.request('n1', put('c1', 1, 'x', 'A'));
    c.deliver((e) => e.to === 'n2');
    for (const id of ['n1', 'n3', 'n4']) {
      c.request(id, put('c9', 1, 'q', 'Z'));
      c.timer(id, 'view-change');
    }
    const signed = new Map<string, SignedViewChange>();
    for (const e of c.sent) {
      if (e.msg.t !== 'view-change' || e.msg.view !== 1) continue;
      const { t: _t, auth, ...vc } = e.msg as Extract<PbftMessage, { t: 'view-change' }>;
      signed.set(vc.replica, { ...vc, sig: auth[0] });
    }
    const genuine = ['n1', 'n3', 'n4'].map((id) => signed.get(id) as SignedViewChange);
    expect(genuine.every((vc) => vc.prepared.length === 1)).toBe(true);
    c.inbox.length = 0;

    const altered = genuine.map((vc) => (vc.replica === 'n4' ? { ...vc, prepared: [] } : vc));
    c.inject('n2', 'n3', {
      t: 'new-view',
      view: 1,
      viewChanges: altered,
      prePrepares: decideNewView(altered, 1, 64)?.prePrepares ?? [],
    });
    expect(c.replica('n3').inspect()['inViewChange']).toBe(true);
    expect(c.replica('n3').inspect()['rejectedMacs']).toBe(1);
    expect(JSON.stringify(c.eventsOf('rejected-input', 'n3'))).toMatch(
      /NEW-VIEW 1 carries a bad VIEW-CHANGE: n4's VIEW-CHANGE has a bad signature/,
    );

    // An unsigned VIEW-CHANGE is refused too: in this mode every one must be evidence.
    const unsigned = genuine.map(({ sig: _sig, ...vc }) => vc);
    c.inject('n2', 'n3', {
      t: 'new-view',
      view: 1,
      viewChanges: unsigned,
      prePrepares: decideNewView(unsigned, 1, 64)?.prePrepares ?? [],
    });
    expect(JSON.stringify(c.eventsOf('rejected-input', 'n3'))).toMatch(/is not signed/);

    c.inject('n2', 'n3', {
      t: 'new-view',
      view: 1,
      viewChanges: genuine,
      prePrepares: decideNewView(genuine, 1, 64)?.prePrepares ?? [],
    });
    expect(c.replica('n3').inspect()).toMatchObject({ view: 1, inViewChange: false });
  });

  it('a cluster in signature mode orders requests, survives a stalling primary and stays safe', () => {
    // Pure-TS Ed25519 costs about a millisecond per signature: a short run with few clients.
    const seed = testSeed(21, 'pbft ed25519 stalling primary');
    const sim = pbftSim({
      seed,
      clients: 2,
      thinkTime_ms: 20,
      params: { auth: 'ed25519', byzantine: { n1: 'stall' } },
    });
    sim.runUntil(1_500_000);
    expect(safetyProblem(sim)).toBeNull();
    for (const status of sim.statuses().values()) expect(status['auth']).toBe('ed25519');
    const installed = protocolEvents(sim).filter(
      (e) => e.event.kind === 'view-installed' && e.event.view >= 1,
    );
    expect(installed.length).toBeGreaterThan(0);
    expect(completedBetween(sim, 0, 1_500)).toBeGreaterThan(5);
  });
});

/** Ed25519 over node:crypto, as a driver that may do I/O could inject it (RFC 8410 keys). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const nodeEd25519: SignatureScheme = {
  signer(seed) {
    const key = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return {
      publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)),
      sign: (message) => new Uint8Array(sign(null, message, key)),
    };
  },
  verifier(publicKey) {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return (message, signature) => verify(null, message, key, signature);
  },
};

describe('PBFT signature mode with an injected Ed25519 implementation', () => {
  it('node:crypto signs exactly as the pure TypeScript default, and each verifies the other', () => {
    const config = pbftConfigSchema.parse({ auth: 'ed25519' });
    const body = { t: 'checkpoint', seq: 16, digest: 'abc' } as const;
    const pure = createReplicaAuth('n1', SERVERS, config);
    const injected = createReplicaAuth('n1', SERVERS, config, nodeEd25519);
    expect(injected.sign(body)).toEqual(pure.sign(body));
    expect(
      createReplicaAuth('n2', SERVERS, config, nodeEd25519).verify('n1', body, pure.sign(body)),
    ).toBe(true);
    expect(createReplicaAuth('n2', SERVERS, config).verify('n1', body, injected.sign(body))).toBe(
      true,
    );
  });

  it('a simulated cluster on the injected implementation orders requests and stays safe', () => {
    const sim = new Simulator<KvOp, KvOutput>({
      stack: pbftStackWith(nodeEd25519),
      config: pbftConfigSchema.parse({ auth: 'ed25519' }),
      nodes: 4,
      clients: 2,
      seed: testSeed(5, 'pbft ed25519 over node:crypto'),
      workload: kvWorkload({ keys: 3 }),
      thinkTime_us: 5_000,
      invariantInterval_us: 5_000,
    });
    sim.runUntil(500_000);
    expect(safetyProblem(sim)).toBeNull();
    expect(sim.completedOps()).toBeGreaterThan(20);
  });
});
