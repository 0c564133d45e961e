import type { RunViewSnapshot } from '../../../src-main/api/run-view-schema';
import { RunView } from '../../../src-main/api/run-view';
import type { RunRecord } from '../../../src-main/record/schema';

/** Small, schema-valid records and snapshots for the renderer tests. */
export function metrics(node: string, t_ms: number, ops: number, seq = 1): RunRecord {
  return {
    type: 'metrics',
    t_ms,
    node,
    incarnation: 1,
    seq,
    raw_ms: 1_700_000_000_000 + t_ms,
    interval_ms: 250,
    ops,
    latency_us: ops > 0 ? { count: ops, p50: 2000, p95: 5000, p99: 9000, max: 12000 } : null,
    links: { n1: { sent: 10, received: 10, dropped: 0 } },
    rejected: 0,
  };
}

export function crash(node: string, t_ms: number, id = `f-${node}-${t_ms}`): RunRecord {
  return {
    type: 'fault',
    t_ms,
    id,
    phase: 'applied',
    source: 'command',
    fault: { type: 'crash', node },
    at_ms: null,
  };
}

export function leaderElected(node: string, view: number, t_ms: number): RunRecord {
  return {
    type: 'protocol',
    t_ms,
    node,
    incarnation: 1,
    seq: 1,
    raw_ms: 1_700_000_000_000 + t_ms,
    event: { kind: 'leader-elected', view, leader: node },
  };
}

export function emptySnapshot(nodes = ['n1', 'n2', 'n3']): RunViewSnapshot {
  return new RunView([
    ...nodes.map((id) => ({ id, role: 'replica' as const })),
    { id: 'w1', role: 'workload' as const },
  ]).snapshot();
}
