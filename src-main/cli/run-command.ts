import { LabError, loadLab, validateResolvedLab } from '../labs/load-lab';
import type { LabConfig } from '../labs/lab-schema';
import { planFromLab, scriptedFaultsAfterEnd } from '../orchestrator/plan-from-lab';
import { runOnLocalTestbed } from '../orchestrator/quick-run';
import type { RunController, RunOutcome } from '../orchestrator/run-controller';
import type { RunPlan } from '../orchestrator/run-plan';
import { createInterface } from 'node:readline';
import { resolveLabFault } from '../labs/resolve-lab-fault';
import { readRecording } from '../record/recording-reader';
import { checkCommand } from './check-command';
import { summarizeRecording } from './run-summary';
import { OPERATOR_HELP, parseOperatorCommand } from './operator-command';
import { formatStatus } from './status-line';
import type { Testbed } from '../testbeds/testbed';
import { testbedForRun } from '../orchestrator/testbed-for-run';
import { askPassphraseOnTerminal } from './passphrase-prompt';

export interface RunCommandArgs {
  readonly labPath: string;
  readonly nodes?: number;
  readonly duration_ms?: number;
  readonly seed?: number;
  readonly testbed?: string;
  readonly outDir: string;
  readonly print: (line: string) => void;
  /** Rewrite one status line in place (a terminal) instead of printing a line every 5 s. */
  readonly interactive: boolean;
  readonly writeInPlace?: (text: string) => void;
  /** Read operator commands (crash leader, partition halves, heal…) from this stream. */
  readonly commands?: NodeJS.ReadableStream;
  /** --inventory for --testbed ssh. */
  readonly inventory?: string;
  /** --accept-host-key SHA256:… for hosts not yet known. */
  readonly acceptHostKeys?: readonly string[];
  /** --known-hosts: trust this file instead of ~/.ssh/known_hosts (from `faultlab testbed up`). */
  readonly knownHostsFile?: string;
}

export const RUN_EXIT = { pass: 0, checkFailed: 1, couldNotRun: 2 } as const;

/** Apply CLI overrides and validate the result again (e.g. a fault naming n5 with --nodes 3). */
export function withOverrides(
  lab: LabConfig,
  args: Pick<RunCommandArgs, 'nodes' | 'duration_ms' | 'seed' | 'testbed'>,
  source: string,
): LabConfig {
  const patched = {
    ...lab,
    ...(args.nodes !== undefined ? { nodes: args.nodes } : {}),
    ...(args.duration_ms !== undefined ? { duration_ms: args.duration_ms } : {}),
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    ...(args.testbed !== undefined ? { testbed: args.testbed } : {}),
  };
  return validateResolvedLab(patched, `${source} (with command-line overrides)`);
}

/**
 * `faultlab run <lab.yaml>`: run the lab on a testbed with a live status line, then check the
 * recording. Exit 0 when every check passes, 1 when one fails, 2 when the run could not happen.
 */
export async function runCommand(args: RunCommandArgs): Promise<number> {
  const { print } = args;
  let lab: LabConfig;
  try {
    lab = withOverrides(loadLab(args.labPath), args, args.labPath);
  } catch (err) {
    print(err instanceof LabError ? err.message : `faultlab run: ${(err as Error).message}`);
    return RUN_EXIT.couldNotRun;
  }
  let testbed: Testbed;
  try {
    testbed = selectTestbed(lab.testbed, args);
  } catch (err) {
    print(`faultlab run: ${(err as Error).message}`);
    return RUN_EXIT.couldNotRun;
  }
  const leftOut = scriptedFaultsAfterEnd(lab);
  if (leftOut.length > 0) {
    print(
      `note: ${leftOut.length} scripted fault(s) at or after the end of the run (${(lab.duration_ms / 1000).toFixed(1)} s) are left out: ` +
        leftOut.map((f) => `${f.action.type} at ${(f.at_ms / 1000).toFixed(1)} s`).join(', '),
    );
  }
  return executePlan(planFromLab(lab, { labPath: args.labPath }), { ...args, testbed });
}

/** The testbed a run asked for (a failed preflight refuses the run; the table is printed). */
function selectTestbed(kind: LabConfig['testbed'], args: RunCommandArgs): Testbed {
  return testbedForRun(kind, {
    inventory: args.inventory,
    acceptHostKeys: args.acceptHostKeys,
    knownHostsFile: args.knownHostsFile,
    interactive: process.stdin.isTTY === true,
    ...(process.stdin.isTTY === true ? { askPassphrase: askPassphraseOnTerminal } : {}),
    log: (line) => args.print(`  ${line}`),
    print: args.print,
  });
}

/** Run a plan with status output and signal handling, then check it; shared by run and replay. */
export async function executePlan(
  plan: RunPlan,
  args: Pick<RunCommandArgs, 'outDir' | 'print' | 'interactive' | 'writeInPlace' | 'commands'> & {
    readonly testbed?: Testbed;
  },
  after?: (outcome: RunOutcome) => Promise<number>,
): Promise<number> {
  const { print } = args;
  let controller: RunController | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    print(`\n${signal}: stopping — healing every fault and stopping the agents (again to force)`);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    controller?.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let lastLine = 0;
  const prompt =
    args.commands === undefined ? null : createInterface({ input: args.commands, terminal: false });
  prompt?.on('line', (line) => {
    if (line.trim() === '') return;
    if (line.trim() === 'help') {
      for (const l of OPERATOR_HELP) print(l);
      return;
    }
    const action = parseOperatorCommand(line, plan.nodes);
    if ('error' in action) {
      print(`  ${action.error}`);
      return;
    }
    const c = controller as RunController | null;
    if (c === null) {
      print('  the cluster is still starting; try again in a moment');
      return;
    }
    c.command(line.trim(), (world) => {
      const r = resolveLabFault(action, world);
      return r.ok ? r.fault : r.reason;
    });
  });
  if (prompt !== null) print(OPERATOR_HELP[0] ?? '');
  print(
    `running ${plan.name}: ${plan.nodes} × ${plan.stack} on the ${args.testbed?.kind ?? 'local'} testbed for ${(plan.duration_ms / 1000).toFixed(0)} s, seed ${plan.seed}`,
  );
  let outcome: RunOutcome;
  try {
    outcome = await runOnLocalTestbed(plan, {
      runsDir: args.outDir,
      print: (line) => {
        if (args.interactive) args.writeInPlace?.('\n');
        print(line);
      },
      onController: (c) => (controller = c),
      ...(args.testbed === undefined ? {} : { testbed: args.testbed }),
      onStatus: (status) => {
        const line = formatStatus(status, plan.duration_ms);
        if (args.interactive && args.writeInPlace !== undefined) {
          args.writeInPlace(`\r\u001b[2K${line}`);
        } else if (status.elapsed_ms - lastLine >= 5_000) {
          lastLine = status.elapsed_ms;
          print(line);
        }
      },
    });
  } catch (err) {
    if (args.interactive) args.writeInPlace?.('\n');
    print(`faultlab: the run could not complete: ${(err as Error).message}`);
    return RUN_EXIT.couldNotRun;
  } finally {
    prompt?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (args.interactive) args.writeInPlace?.('\n');
  print('');
  print(
    `run ${outcome.runId}: ${outcome.completedOps.toLocaleString('en-US')} client operations completed`,
  );
  print(`recording: ${outcome.runDir}`);
  for (const p of outcome.problems) print(`problem: ${p}`);
  print('');
  try {
    for (const line of summarizeRecording(await readRecording(outcome.runDir))) print(line);
    print('');
  } catch (err) {
    print(`(no summary: ${(err as Error).message})`);
  }
  const checked = await checkCommand({ runDir: outcome.runDir, print });
  const extra = after !== undefined ? await after(outcome) : 0;
  if (outcome.interrupted) return RUN_EXIT.couldNotRun;
  return Math.max(checked, extra);
}
