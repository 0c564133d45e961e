import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { RunInfo, RunSetup } from '../../api/api-schema';
import { LabError, loadLab } from '../../labs/load-lab';
import type { LabConfig } from '../../labs/lab-schema';
import { withOverrides } from '../../cli/run-command';
import type { AskPassphrase } from '../../ssh/ssh-auth';
import { ApiCallError, notFound } from '../api-error';
import { LabRunSource } from './lab-run-source';
import { RunSession } from './run-session';
import type { RunSource } from './run-source';

/** Finished runs kept in memory (for late subscribers and runs.list); older ones are dropped. */
export const MAX_FINISHED_SESSIONS = 20;
/** Runs going at once; each is a cluster of agents (processes here, or on hosts over SSH). */
export const MAX_ACTIVE_RUNS = 4;

export interface RunRegistryOptions {
  readonly runsDir: string;
  readonly labsDir: string;
  readonly version: string;
  readonly onInfo: (info: RunInfo) => void;
}

/**
 * The runs this server started: creates sessions from a run setup (lab, overrides, testbed),
 * finds them by id, and stops them all on shutdown.
 */
export class RunRegistry {
  private readonly sessions = new Map<string, RunSession>();

  constructor(private readonly options: RunRegistryOptions) {}

  list(): RunInfo[] {
    return Array.from(this.sessions.values(), (s) => s.info());
  }

  get(runId: string): RunSession {
    const session = this.sessions.get(runId);
    if (session === undefined) {
      throw notFound(
        'run',
        runId,
        'it never existed on this server or ended long ago; see runs.list',
      );
    }
    return session;
  }

  /** A lab run from the dashboard's run setup. */
  startFromSetup(setup: RunSetup, askPassphrase?: AskPassphrase): RunInfo {
    const labPath = this.resolveLabPath(setup.labPath);
    let lab: LabConfig;
    try {
      lab = withOverrides(
        loadLab(labPath),
        {
          nodes: setup.nodes,
          duration_ms: setup.duration_s === undefined ? undefined : setup.duration_s * 1000,
          seed: setup.seed,
          testbed: setup.testbed,
        },
        labPath,
      );
      if (setup.clients !== undefined) {
        lab = withOverrides(
          { ...lab, workload: { ...lab.workload, clients: setup.clients } } as LabConfig,
          {},
          labPath,
        );
      }
    } catch (err) {
      // load-lab's messages name file, line and field: pass them on verbatim.
      throw new ApiCallError('bad-request', err instanceof LabError ? err.message : String(err));
    }
    const source = new LabRunSource({
      lab,
      labPath,
      runsDir: this.options.runsDir,
      version: this.options.version,
      scriptedFaults: setup.scriptedFaults,
      setup,
      askPassphrase,
    });
    return this.start(source);
  }

  /** Any run source (the benchmark's synthetic stream uses this). */
  start(source: RunSource): RunInfo {
    const active = Array.from(this.sessions.values()).filter(
      (s) => s.currentPhase !== 'ended' && s.currentPhase !== 'failed',
    );
    if (active.length >= MAX_ACTIVE_RUNS) {
      throw new ApiCallError(
        'conflict',
        `${active.length} runs are already going (the limit is ${MAX_ACTIVE_RUNS}); stop one first`,
      );
    }
    const session = new RunSession(source, {
      runsDir: this.options.runsDir,
      onInfo: this.options.onInfo,
    });
    this.sessions.set(source.runId, session);
    this.prune();
    session.start();
    return session.info();
  }

  /**
   * A lab path from the page: relative ones must lie inside the labs folder (resolved against
   * it, or against the working directory, e.g. "labs/x/lab.yaml"); absolute ones are taken as
   * the user gave them (the Open Lab dialog). Either way a YAML file.
   */
  resolveLabPath(given: string): string {
    if (!/\.ya?ml$/i.test(given)) {
      throw new ApiCallError(
        'bad-request',
        `lab path "${given}" is not a .yaml file; give a lab.yaml`,
      );
    }
    if (isAbsolute(given)) return given;
    const labsDir = resolve(this.options.labsDir);
    const candidates = [resolve(labsDir, given), resolve(given)];
    const inside = candidates.filter((c) => c.startsWith(labsDir + sep));
    if (inside.length === 0) {
      throw new ApiCallError(
        'bad-request',
        `lab path "${given}" is outside the labs folder ${labsDir}; pick a lab from labs.list or give an absolute path`,
      );
    }
    return inside.find((c) => existsSync(c)) ?? (inside[0] as string);
  }

  /** Stop every run (healing faults, stopping agents) and wait for them. */
  async shutdown(reason: string): Promise<void> {
    await Promise.all(Array.from(this.sessions.values(), (s) => s.shutdown(reason)));
  }

  private prune(): void {
    const finished = Array.from(this.sessions.values()).filter(
      (s) => s.currentPhase === 'ended' || s.currentPhase === 'failed',
    );
    for (const s of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_SESSIONS))) {
      this.sessions.delete(s.runId);
    }
  }

  relativeToRuns(dir: string): string {
    return relative(this.options.runsDir, dir);
  }
}
