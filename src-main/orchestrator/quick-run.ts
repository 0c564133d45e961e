import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { RecordingWriter } from '../record/recording-writer';
import { LocalTestbed } from '../testbeds/local/local-testbed';
import type { Testbed } from '../testbeds/testbed';
import { RunController, type LiveStatus, type RunOutcome } from './run-controller';
import type { RunPlan } from './run-plan';

export interface QuickRunOptions {
  readonly runsDir?: string;
  readonly print?: (line: string) => void;
  readonly onStatus?: (s: LiveStatus) => void;
  /** Called once the cluster is up, with the controller (tests poke at it). */
  readonly onController?: (c: RunController) => void;
  /** Run on this testbed instead of a fresh local one (ssh, netns). */
  readonly testbed?: Testbed;
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(
    await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return pkg.version;
}

/** Run a plan on a fresh local testbed, recording into `runsDir` (default: a temp dir). */
export async function runOnLocalTestbed(
  plan: RunPlan,
  options: QuickRunOptions = {},
): Promise<RunOutcome> {
  const controller = new RunController({
    plan,
    testbed: options.testbed ?? new LocalTestbed(),
    runsDir: options.runsDir ?? join(tmpdir(), 'faultlab-runs'),
    // Every record is built from frames already validated at the control channel's door;
    // validating each line again would double the orchestrator's cost per event.
    openRecording: (dir, manifest) => RecordingWriter.create(dir, manifest, { validate: false }),
    print: options.print,
    onStatus: options.onStatus,
    version: await packageVersion(),
  });
  options.onController?.(controller);
  return controller.run();
}
