import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AgentEvent } from '../../src-node-agent/control/frames';
import type { NodeId } from '../../src-node-agent/core/ids';
import { describeFault } from '../../src-node-agent/core/faults';
import type { HistoryEntry } from '../../src-node-agent/core/history';
import { Prng } from '../../src-node-agent/sim/prng';
import type { RecordedHistoryEntry, RunManifest, RunRecord } from '../record/schema';
import type { NodePlan, ProvisionedNode, Testbed } from '../testbeds/testbed';
import { AgentLink } from './agent-link';
import { FaultController } from './fault-controller';
import { LiveState } from './live-state';
import type { ClusterView, RunPlan, ScheduledFault } from './run-plan';
import { wallClock_ms } from '../../src-node-agent/runtime/clock';

/** Where the run's records go (RecordingWriter implements it). */
export interface RecordingSink {
  appendRecord(record: RunRecord): void;
  appendHistory(entry: RecordedHistoryEntry): void;
  flush(): Promise<void>;
  updateManifest(patch: Partial<RunManifest>): Promise<void>;
  close(): Promise<void>;
}

export interface RunControllerOptions {
  readonly plan: RunPlan;
  readonly testbed: Testbed;
  readonly runsDir: string;
  readonly openRecording: (runDir: string, manifest: RunManifest) => Promise<RecordingSink>;
  readonly print?: (line: string) => void;
  readonly onStatus?: (status: LiveStatus) => void;
  readonly keepWorkDirs?: boolean;
  readonly version: string;
}

export interface LiveStatus {
  readonly elapsed_ms: number;
  readonly opsPerSecond: number;
  readonly p99_us: number | null;
  readonly leader: NodeId | null;
  readonly activeFaults: readonly string[];
  readonly agreement: string;
  readonly completedOps: number;
}

export interface RunOutcome {
  readonly runDir: string;
  readonly runId: string;
  readonly completedOps: number;
  readonly interrupted: boolean;
  readonly problems: readonly string[];
}

const WORKLOAD_NODE: NodeId = 'w1';
const STATUS_INTERVAL_MS = 1_000;
const DRAIN_MS = 1_000;

/**
 * One experiment from start to finish: provision and start agents, connect their control
 * channels, measure clock offsets, record everything, start the workload, apply the fault
 * script on time, stop, heal, tear down. Interrupts (SIGINT/SIGTERM, `abort()`) take the same
 * cleanup path, so no fault outlives the run.
 */
export class RunController {
  readonly runId = randomUUID();
  readonly links = new Map<NodeId, AgentLink>();
  private readonly servers: NodeId[];
  private nodes: ProvisionedNode[] = [];
  private recording: RecordingSink | null = null;
  private faults: FaultController | null = null;
  private readonly live: LiveState;
  private origin_ms = 0;
  private readonly offsets = new Map<NodeId, { offset_ms: number; rtt_ms: number }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private faultChain: Promise<void> = Promise.resolve();
  private readonly problems: string[] = [];
  private stopping = false;
  private abortWaiter: (() => void) | null = null;
  private interrupted = false;
  private readonly prng: Prng;
  private lastCrashed: NodeId | null = null;
  private lastPaused: NodeId | null = null;
  private workloadStopped: (() => void) | null = null;
  runDir = '';
  private agentSha256 = '';

  constructor(private readonly options: RunControllerOptions) {
    this.servers = Array.from({ length: options.plan.nodes }, (_, i) => `n${i + 1}`);
    this.live = new LiveState(WORKLOAD_NODE);
    this.prng = new Prng(options.plan.seed).fork('targets');
  }

  /** Stop early (Ctrl-C): heal, tear down, keep the recording. */
  abort(reason: string): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.note(`run interrupted: ${reason}`);
    this.abortWaiter?.();
  }

  /** A fault by operator command while the run is going (CLI prompt, dashboard). */
  command(label: string, resolve: ScheduledFault['resolve']): void {
    this.enqueueFault({ at_ms: this.now_ms(), source: 'command', label, resolve });
  }

  /** For tests: force-drop a control connection as a network blip would. */
  dropControlConnection(node: NodeId): void {
    this.links.get(node)?.dropConnection();
  }

  get faultController(): FaultController | null {
    return this.faults;
  }

  async run(): Promise<RunOutcome> {
    const { plan } = this.options;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.runDir = join(this.options.runsDir, plan.name, stamp);
    try {
      await this.startCluster();
      await this.startRecording();
      this.startWorkloadAndFaults();
      await this.waitForEnd();
      await this.finish();
    } catch (err) {
      this.problems.push((err as Error).message);
      this.note(`run failed: ${(err as Error).message}`);
      throw err;
    } finally {
      await this.cleanup();
    }
    return {
      runDir: this.runDir,
      runId: this.runId,
      completedOps: this.live.completedOps,
      interrupted: this.interrupted,
      problems: this.problems,
    };
  }

  // ------------------------------------------------------------------ phases

  private async startCluster(): Promise<void> {
    const { plan, testbed } = this.options;
    const nodePlan: NodePlan[] = [
      ...this.servers.map((id) => ({ id, role: 'replica' as const })),
      { id: WORKLOAD_NODE, role: 'workload' as const },
    ];
    this.nodes = await testbed.provision(this.runId, nodePlan);
    const { agentSha256 } = await testbed.deploy();
    this.agentSha256 = agentSha256;
    const secretHex = randomBytes(32).toString('hex');
    const servers = this.nodes
      .filter((n) => n.role === 'replica')
      .map((n) => ({ id: n.id, host: n.host, port: n.port as number }));
    for (const n of this.nodes) {
      await testbed.writeConfig(n.id, {
        version: 1,
        runId: this.runId,
        node: n.id,
        role: n.role,
        stack: plan.stack,
        params: plan.params,
        servers,
        secretHex,
        workDir: n.workDir,
        controlSocket: n.controlSocket,
        lease_ms: plan.lease_ms,
        // Agents of a dead orchestrator heal at the lease and exit a while later.
        orphanExit_ms: Math.max(5_000, plan.lease_ms * 4),
        durability: plan.durability,
        telemetryInterval_ms: 250,
        // All or none: a receive pairs with its send only if both ends trace.
        traceMessages: plan.traceMessages,
      });
    }
    testbed.onNotice((notice) => {
      if (
        notice.kind === 'exited' &&
        !this.stopping &&
        !(this.faults?.isCrashed(notice.node) ?? false)
      ) {
        const why = notice.code === 70 ? ' (the stack threw: see its agent.log)' : '';
        this.note(
          `agent ${notice.node} exited unexpectedly: code ${notice.code} signal ${notice.signal}${why}`,
        );
        this.problems.push(`agent ${notice.node} exited unexpectedly${why}`);
      }
      if (notice.kind === 'log') this.note(`${notice.node ?? 'testbed'}: ${notice.text}`);
    });
    await Promise.all(this.nodes.map((n) => testbed.start(n.id)));
    await Promise.all(
      this.nodes.map(async (n) => {
        const link = new AgentLink(
          n.id,
          () => testbed.connectControl(n.id),
          {
            onEvent: (node, incarnation, seq, time_ms, e) => {
              // A bug here must not kill the orchestrator outside run(): that would leave
              // faults applied. Stop the run through its normal cleanup instead.
              try {
                this.onAgentEvent(node, incarnation, seq, time_ms, e);
              } catch (err) {
                const text = `internal error handling an event from ${node}: ${(err as Error).stack ?? String(err)}`;
                this.problems.push(text);
                this.abort(text);
              }
            },
            onConnected: (node, welcome, fresh) =>
              this.lifecycle(
                node,
                'connected',
                `pid ${welcome.pid}, incarnation ${welcome.incarnation}${fresh ? '' : ' (resumed)'}`,
              ),
            onDisconnected: (node, reason) => {
              if (!this.stopping) this.lifecycle(node, 'disconnected', reason);
            },
            onProblem: (node, text) => this.note(`${node}: ${text}`),
          },
          () =>
            !this.stopping &&
            (testbed.state(n.id) === 'running' || testbed.state(n.id) === 'paused'),
          // Ack only what the recording holds (events before it starts are held in memory and
          // written once it opens; until then nothing is acked).
          () =>
            this.recording === null
              ? Promise.resolve(false)
              : this.recording.flush().then(() => true),
        );
        this.links.set(n.id, link);
        await link.connect();
      }),
    );
    for (const n of this.nodes) this.offsets.set(n.id, await this.requireLink(n.id).measureClock());
  }

  private async startRecording(): Promise<void> {
    const { plan } = this.options;
    this.origin_ms = wallClock_ms();
    const manifest: RunManifest = {
      schema: 1,
      runId: this.runId,
      name: plan.name,
      startedAt: new Date(this.origin_ms).toISOString(),
      origin_ms: this.origin_ms,
      seed: plan.seed,
      lab: plan.lab,
      labPath: plan.labPath,
      testbed: {
        kind: this.options.testbed.kind,
        nodes: this.nodes.map((n) => ({ id: n.id, role: n.role, host: n.host, port: n.port })),
      },
      versions: {
        faultlab: this.options.version,
        node: process.version,
        agentSha256: this.agentSha256,
      },
      clockOffsets: Object.fromEntries(this.offsets),
    };
    this.recording = await this.options.openRecording(this.runDir, manifest);
    for (const r of this.pendingRecords.splice(0)) this.recording.appendRecord({ ...r, t_ms: 0 });
    for (const ev of this.pendingEvents.splice(0)) this.onAgentEvent(...ev);
    this.faults = new FaultController({
      testbed: this.options.testbed,
      links: this.links,
      servers: this.servers,
      record: (r) => this.record(r),
      flush: () => this.recording?.flush() ?? Promise.resolve(),
      now_ms: () => this.now_ms(),
      restartNode: (node) => this.restartNode(node),
    });
    this.print(`recording to ${this.runDir}`);
  }

  private startWorkloadAndFaults(): void {
    const { plan } = this.options;
    this.requireLink(WORKLOAD_NODE).send({ t: 'start-workload', spec: plan.workload });
    for (const f of plan.faults) {
      const delay = Math.max(0, f.at_ms - this.now_ms());
      this.timers.push(setTimeout(() => this.enqueueFault(f), delay));
    }
    this.timers.push(setInterval(() => this.emitStatus(), STATUS_INTERVAL_MS));
  }

  private enqueueFault(f: ScheduledFault): void {
    this.faultChain = this.faultChain.then(async () => {
      if (this.stopping || this.faults === null) return;
      const fault = f.resolve(this.clusterView());
      if (typeof fault === 'string') {
        this.note(`fault "${f.label}" skipped: ${fault}`);
        this.print(`  fault "${f.label}" skipped: ${fault}`);
        return;
      }
      if (fault.type === 'crash') this.lastCrashed = fault.node;
      if (fault.type === 'pause') this.lastPaused = fault.node;
      try {
        await this.faults.apply(fault, f.source, f.at_ms);
        this.print(`  ${(this.now_ms() / 1000).toFixed(2)}s  fault: ${describeFault(fault)}`);
      } catch (err) {
        this.problems.push((err as Error).message);
        this.print(`  fault failed: ${(err as Error).message}`);
      }
    });
  }

  private async waitForEnd(): Promise<void> {
    if (this.interrupted) return; // aborted while starting
    const remaining = Math.max(0, this.options.plan.duration_ms - this.now_ms());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, remaining);
      this.abortWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async finish(): Promise<void> {
    await this.faultChain;
    const stopped = new Promise<void>((resolve) => {
      this.workloadStopped = resolve;
      setTimeout(resolve, DRAIN_MS + 4_000);
    });
    this.requireLink(WORKLOAD_NODE).send({ t: 'stop-workload', drain_ms: DRAIN_MS });
    await stopped;
  }

  /** Heal every fault, stop every agent, close the recording. Runs on every exit path. */
  private async cleanup(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.faultChain.catch(() => undefined);
    if (this.faults !== null) {
      await this.faults
        .healAll('stop')
        .catch((err: Error) => this.note(`healing at stop failed: ${err.message}`));
    }
    // Give the last events a moment to arrive, then ask agents to exit.
    await new Promise((r) => setTimeout(r, 300));
    this.stopping = true;
    for (const link of this.links.values()) link.send({ t: 'shutdown' });
    await this.options.testbed.teardown({ keepWorkDirs: this.options.keepWorkDirs });
    for (const link of this.links.values()) link.close();
    if (this.recording !== null) {
      await this.recording.updateManifest({
        endedAt: new Date().toISOString(),
        duration_ms: this.now_ms(),
        clockOffsets: Object.fromEntries(this.offsets),
      });
      await this.recording.close();
    }
  }

  // ------------------------------------------------------------------ events

  private readonly pendingRecords: RunRecord[] = [];
  private readonly pendingEvents: [NodeId, number, number, number, AgentEvent][] = [];

  private onAgentEvent(
    node: NodeId,
    incarnation: number,
    seq: number,
    time_ms: number,
    e: AgentEvent,
  ): void {
    if (this.recording === null) {
      // Before the recording starts there is no origin and no clock offset yet: hold the event.
      this.pendingEvents.push([node, incarnation, seq, time_ms, e]);
      return;
    }
    const recording = this.recording;
    const offset = this.offsets.get(node)?.offset_ms ?? 0;
    const t_ms = time_ms - offset - this.origin_ms;
    const raw_ms = time_ms;
    switch (e.kind) {
      case 'protocol':
        this.live.onProtocol(node, e.event);
        this.record({ t_ms, type: 'protocol', node, incarnation, seq, raw_ms, event: e.event });
        return;
      case 'history': {
        const entry: RecordedHistoryEntry = {
          ...(e.entry as HistoryEntry),
          time_us: e.entry.time_us - (offset + this.origin_ms) * 1000,
          node,
          incarnation,
          seq,
        };
        this.live.onHistory(entry);
        recording.appendHistory(entry);
        return;
      }
      case 'metrics':
        this.live.onMetrics(node, e);
        this.record({
          t_ms,
          type: 'metrics',
          node,
          incarnation,
          seq,
          raw_ms,
          interval_ms: e.interval_ms,
          ops: e.ops,
          latency_us: e.latency_us,
          links: e.links,
          rejected: e.rejected,
        });
        return;
      case 'workload-stopped':
        this.record({ t_ms, type: 'agent', node, incarnation, seq, raw_ms, event: e });
        this.workloadStopped?.();
        return;
      default:
        this.record({ t_ms, type: 'agent', node, incarnation, seq, raw_ms, event: e });
    }
  }

  private async restartNode(node: NodeId): Promise<void> {
    await this.options.testbed.restart(node);
    this.lifecycle(node, 'restarted', `pid ${this.options.testbed.pid(node) ?? '?'}`);
    await this.requireLink(node).connect();
  }

  private clusterView(): ClusterView {
    return {
      servers: this.servers,
      leader: this.live.leader,
      lastCrashed: this.lastCrashed,
      lastPaused: this.lastPaused,
      randomInt: (bound) => this.prng.int(bound),
    };
  }

  private emitStatus(): void {
    const status: LiveStatus = {
      elapsed_ms: this.now_ms(),
      opsPerSecond: this.live.opsPerSecond,
      p99_us: this.live.p99_us,
      leader: this.live.leader,
      activeFaults: this.faults?.active() ?? [],
      agreement: this.live.agreementSummary(),
      completedOps: this.live.completedOps,
    };
    this.options.onStatus?.(status);
  }

  // ------------------------------------------------------------------ helpers

  private record(r: RunRecord): void {
    if (this.recording === null) this.pendingRecords.push(r);
    else this.recording.appendRecord(r);
  }

  private lifecycle(
    node: NodeId,
    what: Extract<RunRecord, { type: 'lifecycle' }>['what'],
    detail: string,
  ): void {
    this.record({ t_ms: this.now_ms(), type: 'lifecycle', node, what, detail });
  }

  private note(text: string): void {
    this.record({ t_ms: this.now_ms(), type: 'note', text });
  }

  private print(line: string): void {
    this.options.print?.(line);
  }

  now_ms(): number {
    return this.origin_ms === 0 ? 0 : wallClock_ms() - this.origin_ms;
  }

  private requireLink(node: NodeId): AgentLink {
    const link = this.links.get(node);
    if (link === undefined) throw new Error(`no control link to ${node}`);
    return link;
  }
}
