import type { AgentEvent } from '../control/frames';
import type { WorkloadSpec } from '../control/workload-spec';
import type { NodeId, TimerName } from '../core/ids';
import { guardInput } from '../core/input-guard';
import type {
  AnyStack,
  ClientContext,
  ClientProtocol,
  ClientReply,
  ClientRequest,
} from '../core/protocol';
import { monotonic_ms, wallClock_us } from './clock';
import { RejectionReporter } from './rejection-reporter';
import { WorkloadOps } from './workload-ops';

export interface WorkloadRunnerOptions {
  readonly stack: AnyStack;
  /** Stack parameters, parsed with the stack's schema. */
  readonly config: unknown;
  /** This agent's node id and incarnation: together they make client ids unique. */
  readonly node: NodeId;
  readonly incarnation: number;
  readonly servers: readonly NodeId[];
  readonly network: { sendRequest(to: NodeId, req: ClientRequest<unknown>): void };
  readonly emit: (event: AgentEvent) => void;
  /** Latency of every completed operation, in microseconds (telemetry). */
  readonly onLatency: (latency_us: number) => void;
  /** A client library threw: its state is unknown, so the agent stops. */
  readonly onFatal: (err: Error) => void;
}

interface Outstanding {
  readonly opId: number;
  readonly op: unknown;
  readonly started_ms: number;
}

interface WorkloadClient {
  readonly id: NodeId;
  readonly ops: WorkloadOps;
  protocol: ClientProtocol<unknown, unknown>;
  readonly timers: Map<TimerName, NodeJS.Timeout>;
  /** Think-time pause before the next invocation (closed mode). */
  /** The client's next invocation: a timer, or an immediate when there is no think time. */
  next: { cancel(): void } | null;
  outstanding: Outstanding | null;
}

interface Session {
  readonly spec: WorkloadSpec;
  readonly clients: WorkloadClient[];
  readonly byId: Map<NodeId, WorkloadClient>;
  stopping: boolean;
  ticker: NodeJS.Timeout | null;
  openStarted_ms: number;
  openIssued: number;
  openCursor: number;
  drainTimer: NodeJS.Timeout | null;
  /** Set by the first stop(); resolves with the number of unknowns. */
  stopped: Promise<number> | null;
  resolveStopped: (unknown: number) => void;
}

/**
 * A workload agent's load generator: `spec.clients` instances of the stack's own client
 * library, each running one operation at a time against the replicas, recording a Jepsen
 * style history (invoke, then ok or unknown) with this agent's wall clock.
 *
 * closed mode: invoke, wait for the result, think, repeat. open mode: `rate_per_s` invocations
 * per second spread round-robin over the clients; a client still busy skips its turn (counted
 * in `skipped`), so the offered load is a ceiling, never a queue that grows without bound.
 */
export class WorkloadRunner {
  private session: Session | null = null;
  private startNo = 0;
  private nextOpId = 1;
  private readonly rejections: RejectionReporter;
  /** Open-mode turns skipped because the client was busy, since creation. */
  skipped = 0;
  completed = 0;

  constructor(private readonly options: WorkloadRunnerOptions) {
    this.rejections = new RejectionReporter(options.emit);
  }

  get running(): boolean {
    return this.session !== null;
  }

  start(spec: WorkloadSpec): void {
    if (this.session !== null) {
      throw new Error('a workload is already running on this agent; stop it first');
    }
    if (spec.mode === 'open' && spec.rate_per_s === undefined) {
      throw new Error('open-mode workload needs rate_per_s (invocations per second, in total)');
    }
    this.startNo++;
    const session: Session = {
      spec,
      clients: [],
      byId: new Map(),
      stopping: false,
      ticker: null,
      openStarted_ms: monotonic_ms(),
      openIssued: 0,
      openCursor: 0,
      drainTimer: null,
      stopped: null,
      resolveStopped: () => undefined,
    };
    this.session = session;
    const prefix = `${this.options.node}.${this.options.incarnation}.${this.startNo}`;
    for (let i = 0; i < spec.clients; i++) {
      const client = this.newClient(session, `${prefix}.c${i}`, i);
      session.clients.push(client);
      session.byId.set(client.id, client);
    }
    if (spec.mode === 'closed') {
      for (const c of session.clients) this.invoke(session, c);
    } else {
      const rate = spec.rate_per_s as number;
      const tick_ms = Math.min(20, Math.max(1, 1000 / rate));
      session.ticker = setInterval(() => this.openTick(session, rate), tick_ms);
    }
  }

  /** A reply from replica `from`, straight off the wire. */
  deliverReply(from: NodeId, raw: unknown): void {
    const guarded = guardInput(this.options.stack, 'reply', raw);
    if (!guarded.ok) {
      this.rejections.reject(from, guarded.reason);
      return;
    }
    const reply = guarded.value as ClientReply<unknown>;
    const client = this.session?.byId.get(reply.client);
    if (client === undefined) return; // a late reply for a stopped workload
    this.guarded(() => client.protocol.onReply(from, reply));
  }

  /**
   * No new invocations; operations still running get `drain_ms` to finish, the rest are
   * recorded `unknown`. Emits `workload-stopped`; resolves with the number of unknowns.
   */
  stop(drain_ms: number): Promise<number> {
    const session = this.session;
    if (session === null) {
      this.options.emit({ kind: 'workload-stopped', unknown: 0 });
      return Promise.resolve(0);
    }
    if (session.stopped !== null) return session.stopped;
    session.stopping = true;
    session.stopped = new Promise<number>((resolve) => (session.resolveStopped = resolve));
    if (session.ticker !== null) clearInterval(session.ticker);
    session.ticker = null;
    for (const c of session.clients) {
      c.next?.cancel();
      c.next = null;
    }
    const stopped = session.stopped;
    if (this.outstandingCount(session) === 0) this.finish(session);
    else session.drainTimer = setTimeout(() => this.finish(session), drain_ms);
    return stopped;
  }

  /** Rejected replies since the previous call (telemetry). */
  takeRejected(): number {
    return this.rejections.take();
  }

  /** Drop everything at once (agent shutdown): timers cleared, no events. */
  dispose(): void {
    const session = this.session;
    if (session === null) return;
    this.session = null;
    this.clearSession(session);
    session.resolveStopped(this.outstandingCount(session));
  }

  private finish(session: Session): void {
    if (this.session !== session) return;
    const time_us = wallClock_us();
    let unknown = 0;
    for (const c of session.clients) {
      const o = c.outstanding;
      if (o === null) continue;
      unknown++;
      this.history({ type: 'unknown', process: c.id, opId: o.opId, time_us, op: o.op });
    }
    for (const c of session.clients) c.outstanding = null;
    this.session = null;
    this.clearSession(session);
    this.options.emit({ kind: 'workload-stopped', unknown });
    session.resolveStopped(unknown);
  }

  private clearSession(session: Session): void {
    if (session.ticker !== null) clearInterval(session.ticker);
    if (session.drainTimer !== null) clearTimeout(session.drainTimer);
    session.ticker = null;
    session.drainTimer = null;
    for (const c of session.clients) {
      c.next?.cancel();
      c.next = null;
      for (const t of c.timers.values()) clearTimeout(t);
      c.timers.clear();
    }
  }

  private outstandingCount(session: Session): number {
    return session.clients.filter((c) => c.outstanding !== null).length;
  }

  private openTick(session: Session, rate: number): void {
    if (session.stopping || this.session !== session) return;
    const due =
      Math.floor(((monotonic_ms() - session.openStarted_ms) * rate) / 1000) - session.openIssued;
    if (due <= 0) return;
    session.openIssued += due;
    // After a stall, catch up by at most one round of clients; the rest count as skipped.
    const n = session.clients.length;
    const now = Math.min(due, n);
    this.skipped += due - now;
    for (let i = 0; i < now; i++) {
      const c = session.clients[session.openCursor] as WorkloadClient;
      session.openCursor = (session.openCursor + 1) % n;
      if (c.outstanding !== null) this.skipped++;
      else this.invoke(session, c);
    }
  }

  private invoke(session: Session, client: WorkloadClient): void {
    if (session.stopping || this.session !== session || client.outstanding !== null) return;
    const op = client.ops.next(client.id);
    const opId = this.nextOpId++;
    client.outstanding = { opId, op, started_ms: monotonic_ms() };
    this.history({ type: 'invoke', process: client.id, opId, time_us: wallClock_us(), op });
    this.guarded(() => client.protocol.invoke(op));
  }

  private complete(session: Session, client: WorkloadClient, output: unknown): void {
    const o = client.outstanding;
    if (o === null) {
      throw new Error(`client ${client.id} completed an operation it was not running`);
    }
    client.outstanding = null;
    this.completed++;
    const time_us = wallClock_us();
    this.history({ type: 'ok', process: client.id, opId: o.opId, time_us, op: o.op, output });
    this.options.onLatency(Math.max(1, Math.round((monotonic_ms() - o.started_ms) * 1000)));
    if (session.stopping) {
      if (this.outstandingCount(session) === 0) this.finish(session);
      return;
    }
    if (session.spec.mode !== 'closed') return;
    // Deferred even with no think time: the client library is still inside its onReply.
    // setTimeout(0) would cost a whole millisecond per operation. A microtask runs as soon as
    // this reply's callback returns, so the request leaves with this event-loop turn's writes
    // (an immediate would hold it for one more turn).
    const think_ms = session.spec.thinkTime_ms;
    const go = (): void => {
      client.next = null;
      this.invoke(session, client);
    };
    if (think_ms > 0) {
      const timer = setTimeout(go, think_ms);
      client.next = { cancel: () => clearTimeout(timer) };
    } else {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) go();
      });
      client.next = { cancel: () => (cancelled = true) };
    }
  }

  private history(entry: Extract<AgentEvent, { kind: 'history' }>['entry']): void {
    this.options.emit({ kind: 'history', entry });
  }

  private guarded(run: () => void): void {
    try {
      run();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.options.emit({
        kind: 'log',
        level: 'error',
        text: `workload client of ${this.options.stack.name} threw: ${error.stack ?? error.message}`,
      });
      this.dispose();
      this.options.onFatal(error);
    }
  }

  private newClient(session: Session, id: NodeId, index: number): WorkloadClient {
    const timers = new Map<TimerName, NodeJS.Timeout>();
    const client: WorkloadClient = {
      id,
      ops: new WorkloadOps(session.spec, index),
      protocol: null as unknown as ClientProtocol<unknown, unknown>,
      timers,
      next: null,
      outstanding: null,
    };
    const ctx: ClientContext<unknown, unknown> = {
      self: id,
      servers: this.options.servers,
      send: (to, req) => {
        if (this.session === session) this.options.network.sendRequest(to, req);
      },
      setTimer: (name, after_ms) => {
        if (this.session !== session) return;
        const old = timers.get(name);
        if (old !== undefined) clearTimeout(old);
        const timer = setTimeout(
          () => {
            if (timers.get(name) !== timer) return;
            timers.delete(name);
            this.guarded(() => client.protocol.onTimer(name));
          },
          Math.max(0, after_ms),
        );
        timers.set(name, timer);
      },
      cancelTimer: (name) => {
        const old = timers.get(name);
        if (old !== undefined) clearTimeout(old);
        timers.delete(name);
      },
      complete: (output) => this.complete(session, client, output),
      now: monotonic_ms,
      randomInt: (bound) => (bound <= 1 ? 0 : Math.floor(Math.random() * bound)),
    };
    client.protocol = this.options.stack.createClient(ctx, this.options.config);
    return client;
  }
}
