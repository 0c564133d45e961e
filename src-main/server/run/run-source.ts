import type { Fault } from '../../../src-node-agent/core/faults';
import type { RunInfo } from '../../api/api-schema';
import type { PreflightResult } from '../../preflight/preflight-result';
import type { CheckResult, RecordedHistoryEntry, RunRecord } from '../../record/schema';
import type { SshConnection } from '../../ssh/ssh-connection';

/** What a run session hears from whatever produces the run's records. */
export interface RunSourceSink {
  record(record: RunRecord): void;
  history(entry: RecordedHistoryEntry): void;
  /** The run directory exists: from now on the run can also be found among recordings. */
  recordingOpened(runDir: string): void;
  /** The cluster is up and the workload started. */
  running(): void;
  /** The run's time is up (or it was stopped): faults heal, agents stop. */
  stopping(): void;
  notice(text: string): void;
  /** A line of what the testbed is doing (connecting, uploading, starting agents). */
  setupLog(line: string): void;
  /** The hosts were checked before anything was deployed (netns and ssh runs). */
  preflight(result: PreflightResult): void;
}

/**
 * Where a node's terminal opens: a shell on this machine in the node's work dir (local
 * testbed), or a login shell on the node's host over the testbed's own SSH link.
 */
export type NodeTerminalPlace =
  | { readonly kind: 'local'; readonly workDir: string }
  | {
      readonly kind: 'ssh';
      readonly connection: SshConnection;
      /** The host's name in the inventory (or the namespace's node name). */
      readonly host: string;
      readonly address: string;
      readonly workDir: string;
      /**
       * Take one of the host's terminal sessions (they share the run's SSH connection with
       * its own commands, and sshd caps sessions per connection); returns the release. Throws
       * an ApiCallError when the host has no session to spare.
       */
      readonly claimSession: () => () => void;
    };

export interface RunSourceOutcome {
  readonly runDir: string | null;
  readonly problems: readonly string[];
}

/**
 * Where a live run's records come from. The lab runner (a RunController on a testbed) is one;
 * a benchmark injects a synthetic stream (thousands of events a second, no agents) through the
 * same interface, so the server, pushes and page are measured exactly as they run.
 */
export interface RunSource {
  readonly runId: string;
  readonly name: string;
  readonly stack: string;
  readonly testbed: RunInfo['testbed'];
  readonly duration_ms: number;
  readonly nodes: RunInfo['nodes'];
  /** Run to the end, feeding `sink`. Rejects when the run could not happen. */
  run(sink: RunSourceSink): Promise<RunSourceOutcome>;
  /** Inject a fault now; returns its label. Throws ApiCallError when it cannot be applied now. */
  fault(fault: Fault): string;
  /** Stop early: heal, tear down, keep the recording. run() then resolves. */
  stop(reason: string): void;
  /** The checks of the finished run (e.g. the lab's checks on the recording); [] if none. */
  check(outcome: RunSourceOutcome): Promise<CheckResult[]>;
  /**
   * Where a terminal on `node` opens, or null (not provisioned yet, or no such node). Throws
   * an ApiCallError when it cannot open any more (the run ended and its hosts are gone).
   */
  nodeTerminal(node: string): NodeTerminalPlace | null;
}
