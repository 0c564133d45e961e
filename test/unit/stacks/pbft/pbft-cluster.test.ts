import { describe, expect, it } from 'vitest';
import { pbftStack } from '../../../../src-node-agent/stacks/pbft';
import { Authenticator } from '../../../../src-node-agent/stacks/pbft/authenticator';
import {
  byzantineBehaviours,
  pbftConfigSchema,
} from '../../../../src-node-agent/stacks/pbft/config';
import { MAX_VIEW } from '../../../../src-node-agent/stacks/pbft/messages';
import type { NemesisAction } from '../../../../src-node-agent/sim/nemesis';
import { runSimulation } from '../../../../src-node-agent/sim/run';
import { checkAgreement } from '../../../../src-main/check/agreement';
import { kvModel } from '../../../../src-main/check/kv-model';
import { checkLinearizability } from '../../../../src-main/check/linearizability';
import {
  behaviourEvents,
  completedBetween,
  pbftSim,
  protocolEvents,
  safetyProblem,
  testSeed,
} from './pbft-sim';

/**
 * Faults a Byzantine run adds on top of its one Byzantine replica. No crashes: this PBFT keeps
 * no stable storage, so a crashed replica is itself a fault and with a Byzantine one that is
 * f+1 = 2 faults for n = 4.
 */
const NETWORK_FAULTS: readonly NemesisAction[] = [
  'pause',
  'resume',
  'partition',
  'cut',
  'heal-network',
  'degrade',
  'restore-links',
];

function runChecked(seed: number, byzantine: Record<string, string>) {
  const run = runSimulation({
    stack: pbftStack,
    params: { byzantine },
    nodes: 4,
    clients: 3,
    keys: 3,
    seed,
    heal_ms: 2_000,
    livenessBound_ms: 6_000,
    thinkTime_ms: 5,
    nemesisKinds: NETWORK_FAULTS,
  });
  const events = [];
  for (const r of run.log) if (r.type === 'protocol') events.push({ node: r.node, event: r.event });
  const agreement = checkAgreement(events);
  const lin = checkLinearizability(run.history, kvModel, { budget_ms: 10_000 });
  const behaviours = events.filter((e) => e.event.kind === 'behaviour').length;
  return { run, agreement, lin, behaviours };
}

describe('PBFT cluster in the simulator (n = 4, f = 1)', () => {
  it('a view number far in the future, a malformed and an oversized message are rejected by schema and counted', () => {
    const sim = pbftSim({ seed: 1 });
    const auth = ['', 'x', 'x', 'x'];
    sim.injectRaw('n2', 'n1', { t: 'prepare', view: MAX_VIEW + 1, seq: 1, digest: 'd', auth });
    sim.injectRaw('n2', 'n1', { t: 'prepare', view: 'one', seq: 1, digest: 'd', auth });
    sim.injectRaw('n2', 'n1', { t: 'prepare', view: 0, seq: 1, digest: 'd'.repeat(10_000), auth });
    sim.injectRaw('n2', 'n1', {
      t: 'pre-prepare',
      view: 0,
      seq: 1,
      digest: 'd',
      cmd: {
        type: 'batch',
        reqs: Array.from({ length: 5_000 }, (_, i) => ({
          client: 'c1',
          seq: i + 1,
          op: { f: 'get', key: 'k' },
        })),
      },
      auth,
    });
    sim.runUntil(200_000);
    expect(sim.rejectedInputs()).toBe(4);
    expect(safetyProblem(sim)).toBeNull();
  });

  it('a view far ahead of the replica that passes the schema and its MAC is rejected by the replica and counted', () => {
    const sim = pbftSim({ seed: 1, validateMessages: true });
    sim.runUntil(100_000);
    const body = { t: 'prepare', view: 1_000_000, seq: 1, digest: 'd' } as const;
    const auth = new Authenticator('n2', sim.servers, pbftConfigSchema.parse({}).secret).sign(body);
    sim.injectRaw('n3', 'n2', { ...body, auth });
    sim.runUntil(200_000);
    const rejected = protocolEvents(sim).filter(
      (e) => e.node === 'n3' && e.event.kind === 'rejected-input',
    );
    expect(rejected.map((e) => JSON.stringify(e.event))).toEqual([
      expect.stringMatching(/view 1000000 is more than 1000 ahead/),
    ]);
    expect(sim.rejectedInputs()).toBe(0); // it passed the schema
  });

  it('a fault-free cluster orders requests, checkpoints and stays safe', () => {
    const sim = pbftSim({ seed: testSeed(3, 'pbft fault-free') });
    sim.runUntil(1_000_000);
    expect(safetyProblem(sim)).toBeNull();
    expect(completedBetween(sim, 0, 1_000)).toBeGreaterThan(100);
    for (const [node, status] of sim.statuses()) {
      expect(status['lowWatermark'], `${node} moved its low watermark`).toBeGreaterThan(0);
      expect(status['logSize'] as number, `${node} garbage-collected its log`).toBeLessThanOrEqual(
        64,
      );
    }
  });

  it('a replica cut off past a stable checkpoint catches up by state transfer after the heal', () => {
    const sim = pbftSim({
      seed: testSeed(5, 'pbft state transfer'),
      faults: [
        {
          at_ms: 100,
          fault: { type: 'partition', shape: 'isolate', groups: [['n4'], ['n1', 'n2', 'n3']] },
        },
        { at_ms: 800, fault: { type: 'heal-network' } },
      ],
    });
    sim.runUntil(800_000);
    const behind = sim.statuses().get('n4')?.executed ?? 0;
    const ahead = sim.statuses().get('n1')?.executed ?? 0;
    expect(ahead - behind).toBeGreaterThan(pbftConfigSchema.parse({}).logWindow);
    sim.runUntil(1_500_000);
    const installed = protocolEvents(sim).filter(
      (e) => e.node === 'n4' && e.event.kind === 'snapshot-installed',
    );
    expect(installed.length).toBeGreaterThan(0);
    expect(sim.statuses().get('n4')?.executed ?? 0).toBeGreaterThan(ahead);
    expect(safetyProblem(sim)).toBeNull();
  });

  const placements: [string, (typeof byzantineBehaviours)[number]][] = [];
  for (const b of byzantineBehaviours) placements.push(['n1', b], ['n3', b]);
  for (const [node, behaviour] of placements) {
    it(`with one Byzantine replica (${node} ${behaviour}) the cluster stays safe under network faults and is live after they heal`, () => {
      const seed = testSeed(11, `pbft ${node}=${behaviour}`);
      const { run, agreement, lin, behaviours } = runChecked(seed, { [node]: behaviour });
      expect(run.invariantViolation).toBeNull();
      expect(agreement.valid, JSON.stringify(agreement.violations[0])).toBe(true);
      expect(lin.verdict).toBe('linearizable');
      expect(run.liveness.recovery_ms, `seed ${seed}: not live after the heal`).not.toBeNull();
      // A behaviour that only acts as primary may never get the chance at a backup.
      if (
        node === 'n1' ||
        behaviour === 'silent' ||
        behaviour === 'lie' ||
        behaviour === 'corrupt'
      ) {
        expect(behaviours).toBeGreaterThan(0);
      }
    });
  }

  it('with crashes, recoveries, pauses and partitions (no Byzantine replica) the cluster stays safe and live', () => {
    const seed = testSeed(7, 'pbft crash-recovery');
    const run = runSimulation({
      stack: pbftStack,
      nodes: 4,
      clients: 3,
      keys: 3,
      seed,
      heal_ms: 2_000,
      livenessBound_ms: 6_000,
      thinkTime_ms: 5,
    });
    const events = [];
    for (const r of run.log)
      if (r.type === 'protocol') events.push({ node: r.node, event: r.event });
    expect(run.invariantViolation).toBeNull();
    const agreement = checkAgreement(events);
    expect(agreement.valid, JSON.stringify(agreement.violations[0])).toBe(true);
    expect(checkLinearizability(run.history, kvModel, { budget_ms: 10_000 }).verdict).toBe(
      'linearizable',
    );
    expect(run.liveness.recovery_ms, `seed ${seed}: not live after the heal`).not.toBeNull();
  });

  it('why 3f+1: with n = 4, an equivocating primary and a lying backup together break agreement', () => {
    // Two colluding Byzantine replicas are f+1 = 2 > f: the equivocating primary tells n3 one
    // request and n4 another for the same sequence number, the liar prepares and commits both,
    // so each correct replica sees pre-prepare + 2f PREPAREs + 2f+1 COMMITs for its own digest.
    const first = testSeed(1, 'pbft why-3f+1');
    let found: number | null = null;
    for (let seed = first; seed < first + 10 && found === null; seed++) {
      const sim = pbftSim({ seed, params: { byzantine: { n1: 'equivocate', n2: 'lie' } } });
      sim.runUntil(1_000_000);
      const problem = safetyProblem(sim);
      if (problem !== null) {
        found = seed;
        console.log(`safety violation with 2 Byzantine of 4 found at seed=${seed}: ${problem}`);
        expect(behaviourEvents(sim, 'equivocate')).toBeGreaterThan(0);
      }
    }
    expect(found).not.toBeNull();
  });
});
