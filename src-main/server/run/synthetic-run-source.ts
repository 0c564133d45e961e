import { randomUUID } from 'node:crypto';
import { describeFault, type Fault } from '../../../src-node-agent/core/faults';
import type { CheckResult, RunRecord } from '../../record/schema';
import type { RunSource, RunSourceOutcome, RunSourceSink, NodeTerminalPlace } from './run-source';

export interface SyntheticRunOptions {
  /** Protocol events per second, spread over the replicas. */
  readonly eventsPerSecond: number;
  /** Nodes sending metrics every 250 ms (each a per-node chart series); one is the workload. */
  readonly metricNodes: number;
  readonly duration_ms: number;
  readonly name?: string;
}

const TICK_MS = 10;
const METRICS_INTERVAL_MS = 250;

/**
 * A run without agents: a steady stream of protocol events and metrics at a chosen rate, for
 * the ingest benchmark (10,000 events/s + 50 metric series) and tests of the session and page.
 * Faults become fault records (crash/pause mark the node, heal closes the period) so the views
 * behave as in a real run; nothing is applied to any process.
 */
export class SyntheticRunSource implements RunSource {
  readonly runId = randomUUID();
  readonly stack = 'synthetic';
  readonly testbed = 'local' as const;
  readonly nodes: { id: string; role: 'replica' | 'workload' }[];
  private sink: RunSourceSink | null = null;
  private stopNow: (() => void) | null = null;
  private start_ms = 0;
  private faultCounter = 0;
  private readonly seqs = new Map<string, number>();

  constructor(private readonly options: SyntheticRunOptions) {
    if (options.metricNodes < 2)
      throw new Error(
        'SyntheticRunSource needs at least 2 metric nodes (1 replica + the workload)',
      );
    this.nodes = [
      ...Array.from({ length: options.metricNodes - 1 }, (_, i) => ({
        id: `n${i + 1}`,
        role: 'replica' as const,
      })),
      { id: 'w1', role: 'workload' },
    ];
  }

  get name(): string {
    return this.options.name ?? 'synthetic';
  }

  get duration_ms(): number {
    return this.options.duration_ms;
  }

  run(sink: RunSourceSink): Promise<RunSourceOutcome> {
    this.sink = sink;
    this.start_ms = performance.now();
    sink.running();
    const replicas = this.nodes.filter((n) => n.role === 'replica');
    let slot = 0;
    let emitted = 0;
    let nextMetrics = METRICS_INTERVAL_MS;
    sink.record({
      t_ms: 0,
      type: 'protocol',
      node: 'n1',
      incarnation: 1,
      seq: this.seq('n1'),
      raw_ms: 0,
      event: { kind: 'leader-elected', view: 1, leader: 'n1' },
    });
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        const now = this.now_ms();
        const due = Math.floor((now * this.options.eventsPerSecond) / 1000);
        for (; emitted < due; emitted++) {
          const node = replicas[emitted % replicas.length]?.id ?? 'n1';
          if (emitted % replicas.length === 0) slot++;
          sink.record({
            t_ms: now,
            type: 'protocol',
            node,
            incarnation: 1,
            seq: this.seq(node),
            raw_ms: now,
            event: { kind: 'executed', slot, digest: `d${slot}` },
          });
        }
        while (now >= nextMetrics) {
          for (const n of this.nodes) this.metrics(n.id, nextMetrics);
          nextMetrics += METRICS_INTERVAL_MS;
        }
        if (now >= this.options.duration_ms) finish();
      }, TICK_MS);
      const finish = (): void => {
        clearInterval(timer);
        sink.stopping();
        resolve({ runDir: null, problems: [] });
      };
      this.stopNow = finish;
    });
  }

  fault(fault: Fault): string {
    const id = `s${++this.faultCounter}`;
    const t_ms = this.now_ms();
    this.sink?.record({
      t_ms,
      type: 'fault',
      id,
      phase: 'applied',
      source: 'command',
      fault,
      at_ms: null,
    });
    return describeFault(fault);
  }

  stop(): void {
    this.stopNow?.();
  }

  check(): Promise<CheckResult[]> {
    return Promise.resolve([]);
  }

  /** No agents, so no node to open a shell on. */
  nodeTerminal(): NodeTerminalPlace | null {
    return null;
  }

  private now_ms(): number {
    return performance.now() - this.start_ms;
  }

  private seq(node: string): number {
    const s = (this.seqs.get(node) ?? 0) + 1;
    this.seqs.set(node, s);
    return s;
  }

  private metrics(node: string, t_ms: number): void {
    const record: RunRecord = {
      t_ms,
      type: 'metrics',
      node,
      incarnation: 1,
      seq: this.seq(node),
      raw_ms: t_ms,
      interval_ms: METRICS_INTERVAL_MS,
      ops:
        node === 'w1'
          ? Math.round((this.options.eventsPerSecond * METRICS_INTERVAL_MS) / 1000 / 10)
          : 0,
      latency_us:
        node === 'w1' ? { count: 100, p50: 900, p95: 1_800, p99: 3_000, max: 5_000 } : null,
      links: { w1: { sent: 25, received: 25, dropped: 0 } },
      rejected: 0,
    };
    this.sink?.record(record);
  }
}
