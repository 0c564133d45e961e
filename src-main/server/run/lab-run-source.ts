import type { Fault } from '../../../src-node-agent/core/faults';
import { describeFault } from '../../../src-node-agent/core/faults';
import type { LabConfig } from '../../labs/lab-schema';
import { planFromLab } from '../../orchestrator/plan-from-lab';
import { RunController, type RecordingSink } from '../../orchestrator/run-controller';
import { RecordingWriter } from '../../record/recording-writer';
import type {
  CheckResult,
  RecordedHistoryEntry,
  RunManifest,
  RunRecord,
} from '../../record/schema';
import type { RunSetup } from '../../api/api-schema';
import { PreflightedTestbed } from '../../preflight/preflighted-testbed';
import type { PreflightResult } from '../../preflight/preflight-result';
import type { AskPassphrase } from '../../ssh/ssh-auth';
import type { ProvisionedNode, Testbed } from '../../testbeds/testbed';
import { ApiCallError } from '../api-error';
import { checkRunDirOffThread } from './check-off-thread';
import type { NodeTerminalPlace, RunSource, RunSourceOutcome, RunSourceSink } from './run-source';
import { testbedForSetup } from './setup-testbed';

export interface LabRunSourceOptions {
  readonly lab: LabConfig;
  readonly labPath: string;
  readonly runsDir: string;
  readonly version: string;
  /** Keep the lab's scripted faults and nemesis (false: only the operator breaks things). */
  readonly scriptedFaults: boolean;
  /** Where the agents run, and for ssh the inventory and accepted host keys. */
  readonly setup: Pick<RunSetup, 'testbed' | 'inventory' | 'knownHosts' | 'acceptHostKeys'>;
  /** ssh: asks the page that started the run for an encrypted key's passphrase. */
  readonly askPassphrase?: AskPassphrase;
}

/** Setup lines and the preflight can come before the session has handed us its sink. */
const MAX_EARLY_EVENTS = 200;
/**
 * Terminals open at once on one host of a run. They are sessions on the run's own SSH
 * connection, next to its command shell and execs; OpenSSH allows 10 per connection
 * (MaxSessions), so this leaves the run room for its own work.
 */
export const MAX_TERMINALS_PER_HOST = 4;

/**
 * A lab run on any testbed, as `faultlab run` does it (RunController, RecordingWriter, checks
 * on the recording at the end), with the recording tapped so the dashboard sees every record
 * and history entry as it is written.
 */
export class LabRunSource implements RunSource {
  private readonly controller: RunController;
  private readonly testbedImpl: Testbed;
  private readonly provisioned = new Map<string, ProvisionedNode>();
  private sink: RunSourceSink | null = null;
  private readonly early: ((sink: RunSourceSink) => void)[] = [];
  private stoppingSent = false;
  private finished = false;
  private readonly terminalsOn = new Map<string, number>();

  constructor(private readonly options: LabRunSourceOptions) {
    // Without its scripted faults the lab is recorded that way too (run.json), so a recording
    // list or a replay does not show faults that were never applied.
    const lab = options.scriptedFaults
      ? options.lab
      : { ...options.lab, faults: [], nemesis: null };
    const finalPlan = planFromLab(lab, { labPath: options.labPath });
    this.testbedImpl = testbedForSetup(options.setup, {
      log: (line) => this.toSink((s) => s.setupLog(line)),
      preflight: (result) => this.toSink((s) => this.onPreflight(s, result)),
      askPassphrase: options.askPassphrase,
    });
    this.captureProvisioned();
    this.controller = new RunController({
      plan: finalPlan,
      testbed: this.testbedImpl,
      runsDir: options.runsDir,
      openRecording: (dir, manifest) => this.openRecording(dir, manifest),
      onStatus: (status) => {
        if (status.elapsed_ms >= finalPlan.duration_ms) this.signalStopping();
      },
      version: options.version,
    });
  }

  get runId(): string {
    return this.controller.runId;
  }
  get name(): string {
    return this.options.lab.name;
  }
  get stack(): string {
    return this.options.lab.stack;
  }
  get testbed(): RunSetup['testbed'] {
    return this.options.setup.testbed;
  }
  get duration_ms(): number {
    return this.options.lab.duration_ms;
  }
  get nodes(): { id: string; role: 'replica' | 'workload' }[] {
    const replicas = Array.from({ length: this.options.lab.nodes }, (_, i) => ({
      id: `n${i + 1}`,
      role: 'replica' as const,
    }));
    return [...replicas, { id: 'w1', role: 'workload' }];
  }

  async run(sink: RunSourceSink): Promise<RunSourceOutcome> {
    this.sink = sink;
    for (const deliver of this.early.splice(0)) deliver(sink);
    try {
      const outcome = await this.controller.run();
      return { runDir: outcome.runDir, problems: outcome.problems };
    } finally {
      // The testbed is torn down by now: hosts' agents, work dirs and SSH links are gone.
      this.finished = true;
    }
  }

  fault(fault: Fault): string {
    if (this.controller.faultController === null) {
      throw new ApiCallError(
        'conflict',
        'the cluster is still starting; inject the fault once the run is running',
      );
    }
    const label = describeFault(fault);
    this.controller.command(label, () => fault);
    return label;
  }

  stop(reason: string): void {
    this.signalStopping();
    this.controller.abort(reason);
  }

  async check(outcome: RunSourceOutcome): Promise<CheckResult[]> {
    if (outcome.runDir === null) return [];
    return (await checkRunDirOffThread(outcome.runDir)).checks;
  }

  nodeTerminal(node: string): NodeTerminalPlace | null {
    const n = this.provisioned.get(node);
    if (n === undefined) return null;
    const tb = this.testbedImpl;
    // A local node's work dir stays after the run (its stable storage): a shell there still helps.
    if (!(tb instanceof PreflightedTestbed)) return { kind: 'local', workDir: n.workDir };
    const ssh = tb.ssh;
    if (this.finished || ssh === null) {
      throw new ApiCallError(
        'conflict',
        `run ${this.runId} has ended and its ${this.testbed} testbed was torn down; open a local shell, or start a new run`,
      );
    }
    const host = ssh.hostOf(node);
    const target = ssh.targets.find((t) => t.name === host);
    return {
      kind: 'ssh',
      connection: ssh.connection(host),
      host,
      address: target?.host ?? host,
      workDir: n.workDir,
      claimSession: () => this.claimTerminal(host),
    };
  }

  private claimTerminal(host: string): () => void {
    const open = this.terminalsOn.get(host) ?? 0;
    if (open >= MAX_TERMINALS_PER_HOST) {
      throw new ApiCallError(
        'conflict',
        `${open} terminals are already open on host ${host} (the limit is ${MAX_TERMINALS_PER_HOST}: they share the run's SSH connection, which sshd limits); close one first`,
      );
    }
    this.terminalsOn.set(host, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.terminalsOn.set(host, (this.terminalsOn.get(host) ?? 1) - 1);
    };
  }

  // ------------------------------------------------------------------ wiring

  private signalStopping(): void {
    if (this.stoppingSent) return;
    this.stoppingSent = true;
    this.sink?.stopping();
  }

  private toSink(deliver: (sink: RunSourceSink) => void): void {
    if (this.sink !== null) deliver(this.sink);
    else if (this.early.length < MAX_EARLY_EVENTS) this.early.push(deliver);
  }

  private onPreflight(sink: RunSourceSink, result: PreflightResult): void {
    sink.preflight(result);
    // No tc netem here: say once, up front, which faults the agents enforce instead.
    const kernel = result.checks.find((c) => c.check === 'kernel-faults');
    if (kernel !== undefined && /netem no/.test(kernel.detail)) {
      sink.notice(
        'tc netem is not available in this kernel: partitions and one-way cuts are nftables ' +
          "rules, but delay, loss, duplication and reordering go through the agents' link filters.",
      );
    }
  }

  /** Learn each node's work dir and host (node terminals open there) as the testbed provisions. */
  private captureProvisioned(): void {
    const tb = this.testbedImpl;
    const provision = tb.provision.bind(tb);
    tb.provision = async (runId, plan) => {
      const nodes = await provision(runId, plan);
      for (const n of nodes) this.provisioned.set(n.id, n);
      return nodes;
    };
  }

  private async openRecording(dir: string, manifest: RunManifest): Promise<RecordingSink> {
    // As quick-run: records come from frames validated at the control channel's door.
    const writer = await RecordingWriter.create(dir, manifest, { validate: false });
    const sink = this.sink;
    const tap: RecordingSink = {
      appendRecord: (record: RunRecord) => {
        writer.appendRecord(record);
        sink?.record(record);
      },
      appendHistory: (entry: RecordedHistoryEntry) => {
        writer.appendHistory(entry);
        sink?.history(entry);
      },
      flush: () => writer.flush(),
      updateManifest: (patch) => writer.updateManifest(patch),
      close: () => writer.close(),
    };
    sink?.recordingOpened(dir);
    // The controller starts the workload right after the recording opens.
    sink?.running();
    return tap;
  }
}
