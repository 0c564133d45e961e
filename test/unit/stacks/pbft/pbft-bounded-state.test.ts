import { describe, expect, it } from 'vitest';
import { pbftConfigSchema } from '../../../../src-node-agent/stacks/pbft/config';
import { Cluster, put } from './pbft-harness';

/** What a faulty replica or client can make a correct replica hold, and what it cannot stop. */
describe('PBFT state a faulty peer cannot grow or jam', () => {
  it('far-future CHECKPOINTs from a faulty replica neither crowd out the real ones nor accumulate', () => {
    const c = new Cluster({ checkpointEvery: 4, logWindow: 8, maxBatch: 1 }, ['n4']);
    // n4 (played by the test) claims 100 checkpoints far above the high watermark.
    for (let i = 1; i <= 100; i++) {
      for (const id of ['n1', 'n2', 'n3']) {
        c.inject('n4', id, { t: 'checkpoint', seq: 1000 + 4 * i, digest: 'junk' });
      }
    }
    for (const id of ['n1', 'n2', 'n3']) {
      // One vote of n4 above the watermarks is kept: its latest.
      expect(c.replica(id).inspect()['checkpointVoteSets']).toBe(1);
    }
    for (let seq = 1; seq <= 20; seq++) {
      c.request('n1', put('c1', seq, 'x', `v${seq}`));
      c.deliver((e) => e.to === 'n4');
    }
    for (const id of ['n1', 'n2', 'n3']) {
      const st = c.replica(id).inspect();
      expect(st.executed, id).toBe(20);
      // Checkpoints at 4, 8, …, 20 became stable: the low watermark moved with them.
      expect(st['lowWatermark'], id).toBe(20);
    }
  });

  it('a CHECKPOINT at a sequence number no replica checkpoints at is rejected and counted', () => {
    const c = new Cluster({ checkpointEvery: 4 }, ['n4']);
    c.inject('n4', 'n1', { t: 'checkpoint', seq: 6, digest: 'junk' });
    const rejected = c.eventsOf('rejected-input', 'n1');
    expect(rejected).toHaveLength(1);
    expect(JSON.stringify(rejected[0])).toMatch(/CHECKPOINT 6 is not a multiple/);
    expect(c.replica('n1').inspect()['checkpointVoteSets']).toBe(0);
  });

  it('requests turned away as busy are not tracked: the primary holds at most its queue', () => {
    // The backups are away, so nothing executes and the queue fills.
    const c = new Cluster({ queueLimit: 10, maxInFlight: 1 }, ['n2', 'n3', 'n4']);
    for (let seq = 1; seq <= 5_000; seq++) {
      c.replica('n1').onClientRequest(put('c1', seq, 'k', 'v'));
      if (seq % 1_000 === 0) c.context('n1').effects.length = 0;
    }
    const st = c.replica('n1').inspect();
    expect(st['queued']).toBe(10);
    // The queue plus the one batch in flight.
    expect(st['pending']).toBeLessThanOrEqual(11);
  });

  it('refuses a log window smaller than the checkpoint interval, which could never move h', () => {
    const result = pbftConfigSchema.safeParse({ checkpointEvery: 16, logWindow: 8 });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/logWindow \(L\) must be at least/);
    expect(pbftConfigSchema.safeParse({ checkpointEvery: 8, logWindow: 8 }).success).toBe(true);
  });
});
