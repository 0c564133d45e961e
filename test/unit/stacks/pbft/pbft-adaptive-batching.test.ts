import { describe, expect, it } from 'vitest';
import type { PbftMessage } from '../../../../src-node-agent/stacks/pbft/messages';
import { Cluster, put } from './pbft-harness';

type PrePrepare = Extract<PbftMessage, { t: 'pre-prepare' }>;

/** Batch sizes of the pre-prepares the primary sent, in sequence-number order. */
function batches(c: Cluster): number[] {
  const seen = new Map<number, number>();
  for (const e of c.sent) {
    if (e.from !== 'n1' || e.msg.t !== 'pre-prepare') continue;
    const pp = e.msg as PrePrepare;
    seen.set(pp.seq, pp.cmd.type === 'batch' ? pp.cmd.reqs.length : 0);
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
}

describe('PBFT adaptive batching (params adaptiveBatching)', () => {
  it('off (default): every request is proposed at once in its own sequence number', () => {
    const c = new Cluster({ maxBatch: 4 });
    for (let i = 1; i <= 3; i++) c.request('n1', put(`c${i}`, 1, `k${i}`, 'v'));
    c.deliver();
    expect(batches(c)).toEqual([1, 1, 1]);
  });

  it('on: a lone request goes at once; the rest gather while it is in flight', () => {
    const c = new Cluster({ maxBatch: 4, adaptiveBatching: true });
    for (let i = 1; i <= 3; i++) c.request('n1', put(`c${i}`, 1, `k${i}`, 'v'));
    // Nothing delivered yet: only the first request is ordered, the others wait at the primary.
    expect(batches(c)).toEqual([1]);
    c.deliver();
    // Its execution freed the pipeline: the two waiting requests went out as one batch.
    expect(batches(c)).toEqual([1, 2]);
    for (const id of ['n1', 'n2', 'n3', 'n4']) expect(c.replica(id).inspect().executed).toBe(2);
  });

  it('on: a full batch does not wait for the pipeline', () => {
    const c = new Cluster({ maxBatch: 2, adaptiveBatching: true });
    for (let i = 1; i <= 5; i++) c.request('n1', put(`c${i}`, 1, `k${i}`, 'v'));
    expect(batches(c)).toEqual([1, 2, 2]);
    c.deliver();
    for (const id of ['n1', 'n2', 'n3', 'n4']) expect(c.replica(id).inspect().executed).toBe(3);
  });
});
