import { describeFault, type Fault } from '../../src-node-agent/core/faults';
import type { CheckResult, RunRecord } from '../record/schema';
import type {
  ActiveFault,
  FaultPeriod,
  LinkView,
  NodeView,
  RunViewSnapshot,
  Series,
  TimelineCategory,
  TimelineEntry,
} from './run-view-schema';

/**
 * Folds a run's records (record/schema.ts RunRecord, in order) into what the dashboard shows:
 * node states, leader, link states, active faults and shaded fault periods, the chart series
 * and the event timeline. Pure and browser-safe: the server runs it to answer "what did the
 * run look like at t" (playback keyframes, late subscribers), the page runs it on every pushed
 * batch. Every collection is bounded, so a run of any length costs the same memory.
 */

/** Chart points kept per series: 10 minutes at the agents' 250 ms telemetry interval. */
export const MAX_SERIES_POINTS = 2_400;
/** Timeline entries kept per category (routine events would otherwise push out the rest). */
export const MAX_TIMELINE_PER_CATEGORY = 4_000;
/** Fault periods kept for shading. */
export const MAX_FAULT_PERIODS = 500;

const ROUTINE_KINDS = new Set(['executed', 'committed', 'snapshot-taken']);
/** Agent events that are bookkeeping, not news (message traces go to the message-flow view). */
const SILENT_AGENT_KINDS = new Set(['message', 'message-trace-dropped', 'metrics']);

interface NetworkFault {
  readonly id: string;
  readonly fault: Fault;
}

export interface RunViewNode {
  readonly id: string;
  readonly role: 'replica' | 'workload';
}

export class RunView {
  private t_ms = 0;
  private recordCount = 0;
  private readonly nodes = new Map<string, NodeView>();
  private leader: { node: string; view: number } | null = null;
  private readonly network = new Map<string, NetworkFault>();
  private readonly active = new Map<string, ActiveFault>();
  private periods: FaultPeriod[] = [];
  /** Open crash/pause periods by node, so a recover/resume closes the right one. */
  private readonly openNodePeriods = new Map<string, FaultPeriod>();
  private readonly series = {
    throughput: emptySeries(),
    p50_ms: emptySeries(),
    p95_ms: emptySeries(),
    p99_ms: emptySeries(),
    messages: {} as Record<string, Series>,
  };
  private readonly timeline = new Map<TimelineCategory, TimelineEntry[]>();
  private checks: CheckResult[] = [];
  private readonly counts = { completedOps: 0, rejected: 0, messagesTraced: 0, faults: 0 };
  private linksCache: LinkView[] | null = null;

  constructor(nodes: readonly RunViewNode[]) {
    for (const n of nodes) this.nodes.set(n.id, freshNode(n.id, n.role));
  }

  static fromSnapshot(s: RunViewSnapshot): RunView {
    const view = new RunView([]);
    view.t_ms = s.t_ms;
    view.recordCount = s.records;
    for (const n of s.nodes) view.nodes.set(n.id, { ...n });
    view.leader = s.leader === null ? null : { ...s.leader };
    for (const f of s.activeFaults) view.active.set(f.id, { ...f });
    view.periods = s.faultPeriods.map((p) => ({ ...p }));
    for (const p of view.periods) {
      if (p.to_ms === null && p.node !== null) view.openNodePeriods.set(p.node, p);
    }
    for (const nf of s.networkFaults) view.network.set(nf.id, { id: nf.id, fault: nf.fault });
    for (const [name, series] of Object.entries(s.series)) {
      if (name === 'messages') continue;
      const target = view.series[name as 'throughput'];
      target.t.push(...(series as Series).t);
      target.v.push(...(series as Series).v);
    }
    for (const [node, series] of Object.entries(s.series.messages)) {
      view.series.messages[node] = { t: [...series.t], v: [...series.v] };
    }
    for (const e of s.timeline) view.timelineOf(e.category).push({ ...e });
    view.checks = s.checks.map((c) => ({ ...c }));
    Object.assign(view.counts, s.counts);
    return view;
  }

  get time_ms(): number {
    return this.t_ms;
  }

  get recordsFolded(): number {
    return this.recordCount;
  }

  setChecks(checks: readonly CheckResult[]): void {
    this.checks = checks.map((c) => ({ ...c }));
  }

  apply(record: RunRecord): void {
    this.recordCount++;
    if (record.t_ms > this.t_ms) this.t_ms = record.t_ms;
    switch (record.type) {
      case 'protocol':
        this.onProtocol(record);
        return;
      case 'fault':
        this.onFault(record);
        return;
      case 'metrics':
        this.onMetrics(record);
        return;
      case 'lifecycle':
        this.onLifecycle(record);
        return;
      case 'agent':
        this.onAgent(record);
        return;
      case 'note':
        this.addTimeline(record.t_ms, null, 'note', 'note', record.text);
        return;
    }
  }

  snapshot(options: { timelineLimit?: number } = {}): RunViewSnapshot {
    const limit = options.timelineLimit ?? MAX_TIMELINE_PER_CATEGORY;
    return {
      t_ms: this.t_ms,
      records: this.recordCount,
      nodes: Array.from(this.nodes.values(), (n) => ({ ...n })),
      leader: this.leader === null ? null : { ...this.leader },
      links: this.links(),
      networkFaults: Array.from(this.network.values(), (nf) => ({ id: nf.id, fault: nf.fault })),
      activeFaults: Array.from(this.active.values(), (f) => ({ ...f })),
      faultPeriods: this.periods.map((p) => ({ ...p })),
      series: {
        throughput: copySeries(this.series.throughput),
        p50_ms: copySeries(this.series.p50_ms),
        p95_ms: copySeries(this.series.p95_ms),
        p99_ms: copySeries(this.series.p99_ms),
        messages: Object.fromEntries(
          Object.entries(this.series.messages).map(([k, s]) => [k, copySeries(s)]),
        ),
      },
      timeline: this.timelineEntries(limit),
      checks: this.checks.map((c) => ({ ...c })),
      counts: { ...this.counts },
    };
  }

  // ---------------------------------------------------------------- read access for views

  nodeList(): readonly NodeView[] {
    return Array.from(this.nodes.values());
  }

  currentLeader(): { node: string; view: number } | null {
    return this.leader;
  }

  links(): LinkView[] {
    if (this.linksCache === null) this.linksCache = this.computeLinks();
    return this.linksCache.map((l) => ({ ...l }));
  }

  activeFaults(): readonly ActiveFault[] {
    return Array.from(this.active.values());
  }

  faultPeriods(): readonly FaultPeriod[] {
    return this.periods;
  }

  seriesData(): Readonly<typeof this.series> {
    return this.series;
  }

  /** Timeline entries of every category, in time order, newest last, at most `limit`. */
  timelineEntries(limit = MAX_TIMELINE_PER_CATEGORY): TimelineEntry[] {
    const all: TimelineEntry[] = [];
    for (const list of this.timeline.values()) all.push(...list.slice(-limit));
    all.sort((a, b) => a.t_ms - b.t_ms || a.n - b.n);
    return all;
  }

  checkResults(): readonly CheckResult[] {
    return this.checks;
  }

  countsSoFar(): Readonly<typeof this.counts> {
    return this.counts;
  }

  // ---------------------------------------------------------------- folding

  private onProtocol(record: Extract<RunRecord, { type: 'protocol' }>): void {
    const e = record.event as { kind: string } & Record<string, unknown>;
    const node = this.node(record.node, 'replica');
    node.incarnation = record.incarnation;
    if (node.status === 'starting' || node.status === 'disconnected') node.status = 'up';
    switch (e.kind) {
      case 'leader-elected':
      case 'view-installed': {
        const view = Number(e['view']);
        const leader = String(e['leader']);
        if (this.leader === null || view >= this.leader.view) {
          if (this.leader === null || this.leader.view !== view || this.leader.node !== leader) {
            this.leader = { node: leader, view };
            for (const n of this.nodes.values()) n.suspected = false;
          }
        }
        break;
      }
      case 'view-change':
        // The node gave up on the leader it had: show the leader as suspected until a new one.
        if (this.leader !== null) {
          const suspect = this.nodes.get(this.leader.node);
          if (suspect !== undefined && suspect.id !== record.node) suspect.suspected = true;
        }
        break;
      case 'executed':
      case 'snapshot-installed': {
        const slot = Number(e['slot']);
        if (Number.isFinite(slot) && slot > node.executed) node.executed = slot;
        break;
      }
      case 'behaviour': {
        const name = String(e['name']);
        // The operator's switch back reports 'honest'; a correct replica never reports.
        node.byzantine = name === 'honest' || name === 'correct' ? null : name;
        break;
      }
      case 'rejected-input':
        this.counts.rejected++;
        break;
    }
    const category: TimelineCategory = ROUTINE_KINDS.has(e.kind) ? 'routine' : 'protocol';
    this.addTimeline(record.t_ms, record.node, category, e.kind, describeEvent(e));
  }

  private onFault(record: Extract<RunRecord, { type: 'fault' }>): void {
    const { fault } = record;
    const label = describeFault(fault);
    if (record.phase === 'journal') return;
    if (record.phase === 'failed') {
      this.addTimeline(
        record.t_ms,
        null,
        'fault',
        'fault-failed',
        `${label} failed: ${record.detail ?? ''}`,
      );
      return;
    }
    if (record.phase === 'healed') {
      this.network.delete(record.id);
      this.active.delete(record.id);
      this.closePeriod(record.id, record.t_ms);
      this.linksCache = null;
      this.addTimeline(record.t_ms, null, 'fault', 'healed', `healed: ${label}`);
      return;
    }
    this.counts.faults++;
    this.addTimeline(record.t_ms, null, 'fault', fault.type, `${label} (${record.source})`);
    const opens = (node: string | null): void => {
      this.active.set(record.id, {
        id: record.id,
        label,
        type: fault.type,
        source: record.source,
        since_ms: record.t_ms,
      });
      this.openPeriod({
        id: record.id,
        label,
        type: fault.type,
        node,
        from_ms: record.t_ms,
        to_ms: null,
      });
    };
    switch (fault.type) {
      case 'crash':
      case 'pause': {
        const node = this.node(fault.node, 'replica');
        node.status = fault.type === 'crash' ? 'crashed' : 'paused';
        if (this.openNodePeriods.has(fault.node)) return;
        opens(fault.node);
        const period = this.periods[this.periods.length - 1];
        if (period !== undefined) this.openNodePeriods.set(fault.node, period);
        return;
      }
      case 'recover':
      case 'resume':
        this.node(fault.node, 'replica').status = 'up';
        this.endNodePeriod(fault.node, record.t_ms);
        return;
      case 'partition':
      case 'cut':
      case 'degrade':
        this.network.set(record.id, { id: record.id, fault });
        this.linksCache = null;
        opens(null);
        return;
      case 'heal-network':
      case 'restore-links':
        // The controller records a 'healed' line per fault it undoes; nothing else to do.
        return;
      case 'heal-all':
        for (const n of this.nodes.values()) {
          if (n.status === 'crashed' || n.status === 'paused') n.status = 'up';
          this.endNodePeriod(n.id, record.t_ms);
        }
        return;
    }
  }

  private onMetrics(record: Extract<RunRecord, { type: 'metrics' }>): void {
    const t = record.t_ms;
    const perSecond = record.interval_ms > 0 ? 1000 / record.interval_ms : 0;
    this.node(record.node, record.node.startsWith('w') ? 'workload' : 'replica');
    if (this.nodes.get(record.node)?.role === 'workload') {
      this.counts.completedOps += record.ops;
      push(this.series.throughput, t, record.ops * perSecond);
      if (record.latency_us !== null && record.latency_us.count > 0) {
        push(this.series.p50_ms, t, record.latency_us.p50 / 1000);
        push(this.series.p95_ms, t, record.latency_us.p95 / 1000);
        push(this.series.p99_ms, t, record.latency_us.p99 / 1000);
      }
    }
    let sent = 0;
    for (const stats of Object.values(record.links)) sent += stats.sent;
    const series = (this.series.messages[record.node] ??= emptySeries());
    push(series, t, sent * perSecond);
    this.counts.rejected += record.rejected;
  }

  private onLifecycle(record: Extract<RunRecord, { type: 'lifecycle' }>): void {
    const node = this.node(record.node, record.node.startsWith('w') ? 'workload' : 'replica');
    switch (record.what) {
      case 'started':
      case 'restarted':
      case 'resumed':
      case 'connected':
        node.status = 'up';
        if (record.what !== 'connected') this.endNodePeriod(record.node, record.t_ms);
        break;
      case 'killed':
        node.status = 'crashed';
        break;
      case 'paused':
        node.status = 'paused';
        break;
      case 'exited':
        if (node.status !== 'crashed') node.status = 'exited';
        break;
      case 'disconnected':
        if (node.status === 'up') node.status = 'disconnected';
        break;
    }
    const detail = record.detail !== undefined ? ` (${record.detail})` : '';
    this.addTimeline(record.t_ms, record.node, 'lifecycle', record.what, `${record.what}${detail}`);
  }

  private onAgent(record: Extract<RunRecord, { type: 'agent' }>): void {
    const e = record.event as { kind: string } & Record<string, unknown>;
    if (e.kind === 'message') {
      this.counts.messagesTraced++;
      return;
    }
    if (SILENT_AGENT_KINDS.has(e.kind)) return;
    if (e.kind === 'rejected' || e.kind === 'unauthenticated') this.counts.rejected++;
    this.addTimeline(record.t_ms, record.node, 'agent', e.kind, describeEvent(e));
  }

  // ---------------------------------------------------------------- helpers

  private node(id: string, role: 'replica' | 'workload'): NodeView {
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = freshNode(id, role);
      this.nodes.set(id, node);
    }
    return node;
  }

  private openPeriod(period: FaultPeriod): void {
    this.periods.push(period);
    if (this.periods.length > MAX_FAULT_PERIODS) {
      this.periods.splice(0, this.periods.length - MAX_FAULT_PERIODS);
    }
  }

  private closePeriod(id: string, t_ms: number): void {
    for (let i = this.periods.length - 1; i >= 0; i--) {
      const p = this.periods[i];
      if (p !== undefined && p.id === id && p.to_ms === null) {
        this.periods[i] = { ...p, to_ms: t_ms };
        return;
      }
    }
  }

  private endNodePeriod(node: string, t_ms: number): void {
    const open = this.openNodePeriods.get(node);
    if (open === undefined) return;
    this.openNodePeriods.delete(node);
    this.active.delete(open.id);
    this.closePeriod(open.id, t_ms);
  }

  private timelineOf(category: TimelineCategory): TimelineEntry[] {
    let list = this.timeline.get(category);
    if (list === undefined) {
      list = [];
      this.timeline.set(category, list);
    }
    return list;
  }

  private addTimeline(
    t_ms: number,
    node: string | null,
    category: TimelineCategory,
    kind: string,
    text: string,
  ): void {
    const list = this.timelineOf(category);
    list.push({ n: this.recordCount, t_ms, node, category, kind, text });
    // Trim in chunks: one splice per 10% overflow instead of a shift per entry.
    if (list.length > MAX_TIMELINE_PER_CATEGORY * 1.1) {
      list.splice(0, list.length - MAX_TIMELINE_PER_CATEGORY);
    }
  }

  private computeLinks(): LinkView[] {
    const replicas = Array.from(this.nodes.values())
      .filter((n) => n.role === 'replica')
      .map((n) => n.id);
    const out = new Map<string, LinkView>();
    const mark = (from: string, to: string, state: 'cut' | 'degraded', detail: string): void => {
      const key = `${from}>${to}`;
      const prev = out.get(key);
      // A cut outranks a degradation on the same link.
      if (prev === undefined || (prev.state === 'degraded' && state === 'cut')) {
        out.set(key, { from, to, state, detail });
      }
    };
    for (const { fault } of this.network.values()) {
      if (fault.type === 'partition') {
        for (const a of replicas) {
          for (const b of replicas) {
            if (a === b) continue;
            const together = fault.groups.some((g) => g.includes(a) && g.includes(b));
            if (!together) mark(a, b, 'cut', describeFault(fault));
          }
        }
      } else if (fault.type === 'cut') {
        mark(fault.from, fault.to, 'cut', describeFault(fault));
      } else if (fault.type === 'degrade') {
        const pairs =
          fault.links ??
          replicas.flatMap((a) => replicas.filter((b) => b !== a).map((b) => [a, b]));
        for (const [a, b] of pairs) {
          if (a !== undefined && b !== undefined) mark(a, b, 'degraded', describeFault(fault));
        }
      }
    }
    return Array.from(out.values());
  }
}

function freshNode(id: string, role: 'replica' | 'workload'): NodeView {
  return {
    id,
    role,
    status: 'starting',
    incarnation: 0,
    suspected: false,
    byzantine: null,
    executed: 0,
  };
}

function emptySeries(): Series {
  return { t: [], v: [] };
}

function copySeries(s: Series): Series {
  return { t: s.t.slice(), v: s.v.slice() };
}

function push(series: Series, t: number, v: number): void {
  series.t.push(t);
  series.v.push(v);
  if (series.t.length > MAX_SERIES_POINTS * 1.1) {
    const drop = series.t.length - MAX_SERIES_POINTS;
    series.t.splice(0, drop);
    series.v.splice(0, drop);
  }
}

/** One line for the timeline: the event's fields after its kind, "view=3 leader=n2". */
export function describeEvent(e: { kind: string } & Record<string, unknown>): string {
  if (e.kind === 'note' && typeof e['text'] === 'string') return e['text'];
  if (e.kind === 'log' && typeof e['text'] === 'string')
    return `${String(e['level'])}: ${e['text']}`;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(e)) {
    if (key === 'kind') continue;
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    parts.push(`${key}=${text.length > 80 ? `${text.slice(0, 77)}...` : text}`);
  }
  return parts.join(' ');
}
