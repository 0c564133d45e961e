import { describe, expect, it } from 'vitest';
import { createReplicaAuth } from '../../../../src-node-agent/stacks/pbft/auth-scheme';
import { commandDigest } from '../../../../src-node-agent/stacks/pbft/command-digest';
import { pbftConfigSchema } from '../../../../src-node-agent/stacks/pbft/config';
import { MAX_VIEW, type PbftBody } from '../../../../src-node-agent/stacks/pbft/messages';
import { put } from './pbft-harness';
import { completedBetween, pbftSim, protocolEvents, safetyProblem, testSeed } from './pbft-sim';

/**
 * Acceptance item 5 of issue 6: malformed or oversized messages, a view number far in the
 * future, a sequence number outside the watermarks — each rejected and counted, and the
 * replica keeps serving.
 */
describe('PBFT bad input', () => {
  it('each bad input is rejected and counted, and the replica keeps serving', () => {
    const sim = pbftSim({ seed: testSeed(9, 'pbft bad input'), validateMessages: true });
    sim.runUntil(100_000);
    const target = 'n2';
    const executedBefore = sim.statuses().get(target)?.executed ?? 0;
    const config = pbftConfigSchema.parse({});
    const signed = (from: string, body: PbftBody) => ({
      ...body,
      auth: createReplicaAuth(from, sim.servers, config).sign(body),
    });
    const auth = ['', 'x', 'x', 'x'];

    // Refused by the schema before the replica sees them (the simulator counts them).
    const malformed: unknown[] = [
      'not a message',
      { t: 'prepare', view: 'one', seq: 1, digest: 'd', auth },
      { t: 'gossip', view: 0, auth },
      { t: 'prepare', view: 0, seq: 1, digest: 'd' }, // no authenticator
      { t: 'prepare', view: 0, seq: 1, digest: 'd'.repeat(10_000), auth }, // oversized field
      { t: 'prepare', view: MAX_VIEW + 1, seq: 1, digest: 'd', auth }, // beyond any view
      {
        t: 'pre-prepare',
        view: 0,
        seq: 1,
        digest: 'd',
        cmd: {
          type: 'batch',
          reqs: Array.from({ length: 5_000 }, (_, i) => put('c1', i + 1, 'k', 'v')),
        },
        auth,
      }, // oversized batch
    ];
    for (const raw of malformed) sim.injectRaw(target, 'n3', raw);

    // Well-formed and authenticated, refused by the replica (rejected-input events).
    const cmd = { type: 'batch', reqs: [put('c1', 99, 'k', 'v')] } as const;
    const beyond = 10_000_000; // far above h + L whatever h is by now
    sim.injectRaw(
      target,
      'n3',
      signed('n3', { t: 'prepare', view: 1_000_000, seq: 1, digest: 'd' }),
    );
    sim.injectRaw(
      target,
      'n1',
      signed('n1', { t: 'pre-prepare', view: 0, seq: beyond, digest: commandDigest(cmd), cmd }),
    );
    sim.injectRaw(target, 'n3', signed('n3', { t: 'commit', view: 0, seq: beyond, digest: 'd' }));
    sim.injectRaw(target, 'n3', signed('n4', { t: 'checkpoint', seq: 16, digest: 'd' })); // n4's MAC
    sim.runUntil(600_000);

    expect(sim.rejectedInputs()).toBe(malformed.length);
    const rejected = protocolEvents(sim)
      .filter((e) => e.node === target && e.event.kind === 'rejected-input')
      .map((e) => JSON.stringify(e.event));
    expect(rejected).toEqual([
      expect.stringMatching(/view 1000000 is more than 1000 ahead of 0/),
      expect.stringMatching(/pre-prepare 10000000 outside watermarks/),
      expect.stringMatching(/COMMIT 10000000 above the high watermark/),
      expect.stringMatching(/bad MAC on checkpoint/),
    ]);
    expect(sim.statuses().get(target)?.['rejectedMacs']).toBe(1);
    // Still serving: the target executes new requests and clients complete operations.
    expect(sim.statuses().get(target)?.executed ?? 0).toBeGreaterThan(executedBefore + 10);
    expect(completedBetween(sim, 100, 600)).toBeGreaterThan(10);
    expect(safetyProblem(sim)).toBeNull();
  });
});
