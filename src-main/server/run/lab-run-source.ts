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
import { LocalTestbed } from '../../testbeds/local/local-testbed';
import { ApiCallError } from '../api-error';
import { checkRunDirOffThread } from './check-off-thread';
import type { RunSource, RunSourceOutcome, RunSourceSink } from './run-source';

export interface LabRunSourceOptions {
  readonly lab: LabConfig;
  readonly labPath: string;
  readonly runsDir: string;
  readonly version: string;
  /** Keep the lab's scripted faults and nemesis (false: only the operator breaks things). */
  readonly scriptedFaults: boolean;
}

/**
 * A lab run on the local testbed, as `faultlab run` does it (RunController, RecordingWriter,
 * checks on the recording at the end), with the recording tapped so the dashboard sees every
 * record and history entry as it is written.
 */
export class LabRunSource implements RunSource {
  private readonly controller: RunController;
  private readonly localTestbed = new LocalTestbed();
  private readonly workDirs = new Map<string, string>();
  private sink: RunSourceSink | null = null;
  private stoppingSent = false;

  constructor(private readonly options: LabRunSourceOptions) {
    const plan = planFromLab(options.lab, { labPath: options.labPath });
    const finalPlan = options.scriptedFaults ? plan : { ...plan, faults: [] };
    this.captureWorkDirs();
    this.controller = new RunController({
      plan: finalPlan,
      testbed: this.localTestbed,
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
  readonly testbed = 'local' as const;
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
    const outcome = await this.controller.run();
    return { runDir: outcome.runDir, problems: outcome.problems };
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

  nodeWorkDir(node: string): string | null {
    return this.workDirs.get(node) ?? null;
  }

  // ------------------------------------------------------------------ wiring

  private signalStopping(): void {
    if (this.stoppingSent) return;
    this.stoppingSent = true;
    this.sink?.stopping();
  }

  /** Learn each node's work dir (node terminals open there) as the testbed provisions it. */
  private captureWorkDirs(): void {
    const provision = this.localTestbed.provision.bind(this.localTestbed);
    this.localTestbed.provision = async (runId, plan) => {
      const nodes = await provision(runId, plan);
      for (const n of nodes) this.workDirs.set(n.id, n.workDir);
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
