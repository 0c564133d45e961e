import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Fault } from '../../src-node-agent/core/faults';
import { Prng } from '../../src-node-agent/sim/prng';
import { parseLab } from '../../src-main/labs/load-lab';
import {
  RUN_FILES,
  type CheckReport,
  type RunManifest,
  type RunRecord,
} from '../../src-main/record/schema';

/**
 * A synthetic run: what a busy Paxos cluster's recording looks like, without the cluster, for
 * dashboard benchmarks. Per 250 ms tick every node reports metrics (50 series in all at the
 * defaults: throughput, latency and per-node message rates), replicas execute slots, and every
 * `faultEvery_ms` the leader crashes, a new one is elected and the old one later recovers, or a
 * partition comes and heals. Deterministic for a seed.
 */
export interface SyntheticRunOptions {
  readonly replicas: number;
  /** Protocol events per second across the cluster (executed slots dominate). */
  readonly eventsPerSecond: number;
  readonly faultEvery_ms: number;
  readonly seed: number;
}

export const TELEMETRY_MS = 250;

export class SyntheticRun {
  private t_ms = 0;
  private slot = 0;
  private readonly seqs = new Map<string, number>();
  private leader = 'n1';
  private view = 1;
  private readonly prng: Prng;
  private pending: { at_ms: number; records: () => RunRecord[] }[] = [];
  private nextFault_ms: number;
  private faultId = 0;
  readonly replicas: string[];

  constructor(readonly options: SyntheticRunOptions) {
    this.replicas = Array.from({ length: options.replicas }, (_, i) => `n${i + 1}`);
    this.prng = new Prng(options.seed);
    this.nextFault_ms = options.faultEvery_ms;
  }

  get time_ms(): number {
    return this.t_ms;
  }

  get nodes(): { id: string; role: 'replica' | 'workload' }[] {
    return [
      ...this.replicas.map((id) => ({ id, role: 'replica' as const })),
      { id: 'w1', role: 'workload' as const },
    ];
  }

  /** The records of the next telemetry tick, in time order. */
  nextTick(): RunRecord[] {
    const from = this.t_ms;
    const to = from + TELEMETRY_MS;
    const out: RunRecord[] = [];
    const perTick = Math.round((this.options.eventsPerSecond * TELEMETRY_MS) / 1000);
    const perNode = Math.max(1, Math.floor(perTick / this.replicas.length));
    const crashed = this.crashedNode;
    for (let i = 0; i < perNode; i++) {
      const t = from + (i * TELEMETRY_MS) / perNode;
      this.slot++;
      const digest = (this.slot * 2654435761) % 4294967296;
      for (const node of this.replicas) {
        if (node === crashed) continue;
        out.push(
          this.protocol(node, t, {
            kind: 'executed',
            slot: this.slot,
            digest: digest.toString(16),
          }),
        );
      }
    }
    if (to >= this.nextFault_ms) {
      this.scheduleFault(this.nextFault_ms);
      this.nextFault_ms += this.options.faultEvery_ms;
    }
    const due = this.pending.filter((p) => p.at_ms < to);
    this.pending = this.pending.filter((p) => p.at_ms >= to);
    for (const p of due) out.push(...p.records());
    for (const node of [...this.replicas, 'w1']) {
      out.push(this.metrics(node, to, crashed === node));
    }
    out.sort((a, b) => a.t_ms - b.t_ms);
    this.t_ms = to;
    return out;
  }

  private crashedNode: string | null = null;

  private scheduleFault(at_ms: number): void {
    const id = `f${++this.faultId}`;
    if (this.faultId % 2 === 1) {
      const victim = this.leader;
      const fault: Fault = { type: 'crash', node: victim };
      const next = this.replicas.find((n) => n !== victim) ?? victim;
      this.pending.push({
        at_ms,
        records: () => {
          this.crashedNode = victim;
          return [
            { t_ms: at_ms, type: 'fault', id, phase: 'applied', source: 'script', fault, at_ms },
            { t_ms: at_ms, type: 'lifecycle', node: victim, what: 'killed', detail: 'SIGKILL' },
          ];
        },
      });
      this.pending.push({
        at_ms: at_ms + 150,
        records: () => {
          this.view++;
          this.leader = next;
          return this.replicas
            .filter((n) => n !== victim)
            .map((n) =>
              this.protocol(n, at_ms + 150, {
                kind: 'leader-elected',
                view: this.view,
                leader: next,
              }),
            );
        },
      });
      this.pending.push({
        at_ms: at_ms + 5_000,
        records: () => {
          this.crashedNode = null;
          const recover: Fault = { type: 'recover', node: victim };
          return [
            {
              t_ms: at_ms + 5_000,
              type: 'fault',
              id: `${id}r`,
              phase: 'applied',
              source: 'script',
              fault: recover,
              at_ms: at_ms + 5_000,
            },
            { t_ms: at_ms + 5_000, type: 'lifecycle', node: victim, what: 'restarted' },
            // It catches up by state transfer, as a restarted replica far behind does.
            this.protocol(victim, at_ms + 5_000, {
              kind: 'snapshot-installed',
              slot: this.slot,
              digest: ((this.slot * 2654435761) % 4294967296).toString(16),
            }),
          ];
        },
      });
    } else {
      const cut = this.prng.between(1, this.replicas.length - 1);
      const fault: Fault = {
        type: 'partition',
        shape: 'groups',
        groups: [this.replicas.slice(0, cut), this.replicas.slice(cut)],
      };
      this.pending.push({
        at_ms,
        records: () => [
          { t_ms: at_ms, type: 'fault', id, phase: 'applied', source: 'script', fault, at_ms },
        ],
      });
      this.pending.push({
        at_ms: at_ms + 3_000,
        records: () => [
          {
            t_ms: at_ms + 3_000,
            type: 'fault',
            id,
            phase: 'healed',
            source: 'script',
            fault,
            at_ms: null,
          },
        ],
      });
    }
  }

  private nextSeq(node: string): number {
    const seq = (this.seqs.get(node) ?? 0) + 1;
    this.seqs.set(node, seq);
    return seq;
  }

  private protocol(
    node: string,
    t_ms: number,
    event: { kind: string } & Record<string, unknown>,
  ): RunRecord {
    return {
      t_ms,
      type: 'protocol',
      node,
      incarnation: 1,
      seq: this.nextSeq(node),
      raw_ms: t_ms,
      event,
    };
  }

  private metrics(node: string, t_ms: number, down: boolean): RunRecord {
    const links: Record<string, { sent: number; received: number; dropped: number }> = {};
    for (const peer of this.replicas) {
      if (peer === node) continue;
      const n = down ? 0 : this.prng.between(200, 400);
      links[peer] = { sent: n, received: n, dropped: 0 };
    }
    const ops = node === 'w1' && this.crashedNode !== this.leader ? this.prng.between(400, 600) : 0;
    const p50 = 400 + this.prng.between(0, 200);
    return {
      t_ms,
      type: 'metrics',
      node,
      incarnation: 1,
      seq: this.nextSeq(node),
      raw_ms: t_ms,
      interval_ms: TELEMETRY_MS,
      ops,
      latency_us:
        node === 'w1' && ops > 0
          ? { count: ops, p50, p95: p50 * 3, p99: p50 * 6, max: p50 * 20 }
          : null,
      links,
      rejected: 0,
    };
  }
}

/** Write a synthetic recording of `duration_ms` into `runDir`; returns its size in records. */
export async function writeSyntheticRecording(
  runDir: string,
  duration_ms: number,
  options: SyntheticRunOptions,
): Promise<{ records: number; bytes: number }> {
  await mkdir(runDir, { recursive: true });
  const run = new SyntheticRun(options);
  const manifest: RunManifest = {
    schema: 1,
    runId: `synthetic-${options.seed}`,
    name: 'synthetic',
    startedAt: new Date(0).toISOString(),
    origin_ms: 0,
    seed: options.seed,
    lab: parseLab(
      [
        'name: synthetic',
        'title: Synthetic recording (benchmark)',
        'stack: paxos',
        `nodes: ${options.replicas}`,
        `duration: ${Math.round(duration_ms / 1000)}s`,
        `seed: ${options.seed}`,
        'workload: { clients: 8, keys: 20 }',
        'faults: []',
        'checks: { linearizable: true, agreement: true }',
      ].join('\n'),
      'synthetic/lab.yaml',
    ),
    labPath: null,
    testbed: {
      kind: 'local',
      nodes: run.nodes.map((n) => ({ id: n.id, role: n.role, host: '127.0.0.1', port: null })),
    },
    versions: { faultlab: 'bench', node: process.version, agentSha256: '0'.repeat(64) },
    clockOffsets: {},
    endedAt: new Date(duration_ms).toISOString(),
    duration_ms,
  };
  await writeFile(join(runDir, RUN_FILES.manifest), JSON.stringify(manifest, null, 2));
  await writeFile(join(runDir, RUN_FILES.history), '');
  const checks: CheckReport = {
    schema: 1,
    verdict: 'pass',
    checkedAt: new Date(duration_ms).toISOString(),
    checks: [{ name: 'synthetic', verdict: 'pass', detail: 'generated, not checked' }],
  };
  await writeFile(join(runDir, RUN_FILES.checks), JSON.stringify(checks, null, 2));
  const out = createWriteStream(join(runDir, RUN_FILES.events));
  let records = 0;
  let bytes = 0;
  while (run.time_ms < duration_ms) {
    const lines =
      run
        .nextTick()
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n';
    records += lines.split('\n').length - 1;
    bytes += lines.length;
    if (!out.write(lines)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { records, bytes };
}
