import { parseLab } from '../../src-main/labs/load-lab';
import type { LabConfig } from '../../src-main/labs/lab-schema';
import type { Recording } from '../../src-main/record/recording-reader';
import type { RecordedHistoryEntry, RunManifest, RunRecord } from '../../src-main/record/schema';

/** A small lab for recording tests: 3 nodes, a crash at 1 s, progress within 200 ms. */
export const FIXTURE_LAB_YAML = `
name: fixture
title: Fixture lab
stack: paxos
params: { electionTimeout_ms: 100 }
nodes: 3
duration: 3s
seed: 7
workload: { clients: 2, keys: 1 }
faults:
  - at: 1s
    crash: n1
  - at: 2s
    restart: last-crashed
checks:
  linearizable: true
  agreement: true
  progress-after-fault: { election-timeouts: 2 }
  min-throughput: 1
`;

export function fixtureLab(): LabConfig {
  return parseLab(FIXTURE_LAB_YAML, 'fixture/lab.yaml');
}

export function fixtureManifest(lab: LabConfig = fixtureLab()): RunManifest {
  return {
    schema: 1,
    runId: 'run-0001',
    name: lab.name,
    startedAt: '2025-11-22T10:00:00.000Z',
    origin_ms: Date.parse('2025-11-22T10:00:00.000Z'),
    seed: lab.seed,
    lab,
    labPath: 'labs/fixture/lab.yaml',
    testbed: {
      kind: 'local',
      nodes: [
        { id: 'n1', role: 'replica', host: '127.0.0.1', port: 7001 },
        { id: 'n2', role: 'replica', host: '127.0.0.1', port: 7002 },
        { id: 'n3', role: 'replica', host: '127.0.0.1', port: 7003 },
        { id: 'w1', role: 'workload', host: '127.0.0.1', port: null },
      ],
    },
    versions: { faultlab: '0.1.0', node: process.version, agentSha256: 'f'.repeat(64) },
    clockOffsets: { n1: { offset_ms: 0.2, rtt_ms: 0.1 } },
    endedAt: '2025-11-22T10:00:03.000Z',
    duration_ms: 3_000,
  };
}

/** Numbers each agent's events 1, 2, 3, … per (node, incarnation), as agents do. */
export class SeqCounter {
  private readonly next = new Map<string, number>();
  take(node: string, incarnation: number): number {
    const key = `${node}/${String(incarnation)}`;
    const seq = this.next.get(key) ?? 1;
    this.next.set(key, seq + 1);
    return seq;
  }
}

/**
 * A healthy run: every node commits and executes slot s at 100·s ms (n1 stops while crashed
 * from 1 s to 2 s, then recovers as incarnation 2), clients do put/get pairs that are
 * linearizable, and progress resumes 50 ms after the crash.
 */
export function goodRecording(): Pick<Recording, 'manifest' | 'records' | 'history'> & {
  lab: LabConfig;
} {
  const lab = fixtureLab();
  const seqs = new SeqCounter();
  const records: RunRecord[] = [];
  const protocol = (
    t_ms: number,
    node: string,
    incarnation: number,
    event: { kind: string } & Record<string, unknown>,
  ): void => {
    records.push({
      t_ms,
      type: 'protocol',
      node,
      incarnation,
      seq: seqs.take(node, incarnation),
      raw_ms: 1_700_000_000_000 + t_ms,
      event,
    });
  };
  const incarnation = (node: string, t_ms: number): number =>
    node === 'n1' && t_ms >= 2_000 ? 2 : 1;
  for (const node of ['n1', 'n2', 'n3']) {
    protocol(0, node, 1, { kind: 'view-installed', view: 1, leader: 'n1' });
  }
  records.push({
    t_ms: 1_000,
    type: 'fault',
    id: 'f1',
    phase: 'journal',
    source: 'script',
    fault: { type: 'crash', node: 'n1' },
    at_ms: 1_000,
  });
  records.push({
    t_ms: 1_000,
    type: 'fault',
    id: 'f1',
    phase: 'applied',
    source: 'script',
    fault: { type: 'crash', node: 'n1' },
    at_ms: 1_000,
  });
  for (let slot = 1; slot <= 25; slot++) {
    // Slots 10..19 are ordered while n1 is down; slot 10 50 ms after the crash.
    const t_ms = slot < 10 ? slot * 100 : slot === 10 ? 1_050 : slot * 100 + 50;
    for (const node of ['n1', 'n2', 'n3']) {
      const down = node === 'n1' && t_ms >= 1_000 && t_ms < 2_000;
      if (down) continue;
      if (node === 'n1' && slot === 20) {
        // n1 restarts from its snapshot at slot 9 and catches up.
        records.push({ t_ms: t_ms - 10, type: 'lifecycle', node: 'n1', what: 'restarted' });
        protocol(t_ms - 5, 'n1', 2, { kind: 'recovered', view: 2, slot: 9 });
        protocol(t_ms - 4, 'n1', 2, { kind: 'snapshot-installed', slot: 19, digest: 'state-19' });
      }
      const inc = incarnation(node, t_ms);
      protocol(t_ms, node, inc, { kind: 'committed', slot, view: slot < 10 ? 1 : 2, requests: 1 });
      protocol(t_ms + 1, node, inc, { kind: 'executed', slot, digest: `d${String(slot)}` });
    }
  }
  for (const node of ['n2', 'n3']) {
    records.push({
      t_ms: 2_500,
      type: 'metrics',
      node,
      incarnation: 1,
      seq: seqs.take(node, 1),
      raw_ms: 1_700_000_002_500,
      interval_ms: 1_000,
      ops: 10,
      latency_us: { count: 10, p50: 900, p95: 1_500, p99: 2_000, max: 2_100 },
      links: { n1: { sent: 10, received: 9, dropped: 1 } },
      rejected: 0,
    });
  }
  records.push({ t_ms: 2_999, type: 'note', text: 'end of fixture' });

  const history: RecordedHistoryEntry[] = [];
  let opId = 0;
  const op = (
    process: string,
    start_ms: number,
    end_ms: number,
    operation: Record<string, unknown>,
    output: unknown,
  ): void => {
    opId++;
    history.push({ type: 'invoke', process, opId, time_us: start_ms * 1_000, op: operation });
    history.push({ type: 'ok', process, opId, time_us: end_ms * 1_000, op: operation, output });
  };
  for (let i = 0; i < 10; i++) {
    const t = i * 200;
    op('c1', t, t + 20, { f: 'put', key: 'x', value: i }, null);
    op('c2', t + 40, t + 60, { f: 'get', key: 'x' }, i);
  }
  return { lab, manifest: fixtureManifest(lab), records, history };
}
