#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { stacks } from '../../src-node-agent/stacks';
import { nemesisActions, type NemesisAction } from '../../src-node-agent/sim/nemesis';
import { defaultSeedJob } from '../explore/seed-job';
import { parseDuration } from '../labs/duration';
import { checkCommand } from './check-command';
import { replayCommand } from './replay-command';
import { runCommand } from './run-command';
import { runsCommand } from './runs-command';
import { registerServeCommand } from './serve-command';
import { simCommand } from './sim-command';
import { registerTestbedCommand } from './testbed-command';
import { registerPreflightCommand } from './preflight-command';
import { parseMutations, parseParams } from './params';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

const defaults = defaultSeedJob();

const program = new Command()
  .name('faultlab')
  .description('FaultLab: run fault-tolerance experiments on simulated and real testbeds')
  .showHelpAfterError()
  // Commander exits 1 on a usage error, which `run` and `check` use for "a check failed": a
  // script must be able to tell a failed check from a mistyped option. Help and --version
  // still exit 0. Set before the subcommands are added, so they inherit it.
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command('sim')
  .description(
    'run a stack in the deterministic simulator over many seeds, with random faults, and check every run',
  )
  .option('--stack <name>', `stack to run (${Array.from(stacks.keys()).join(', ')})`, 'paxos')
  .option('--nodes <n>', 'replicas', positiveInt('--nodes'), defaults.nodes)
  .option('--clients <n>', 'closed-loop clients', positiveInt('--clients'), defaults.clients)
  .option(
    '--keys <n>',
    'keys the workload touches (few = more contention)',
    positiveInt('--keys'),
    defaults.keys,
  )
  .option('--seeds <n>', 'how many seeds to run', positiveInt('--seeds'), 100)
  .option('--first-seed <n>', 'first seed of the range', positiveInt('--first-seed'), 1)
  .option('--seed <n>', 'run only this seed', positiveInt('--seed'))
  .option(
    '--heal-ms <ms>',
    'virtual time at which every fault heals',
    positiveInt('--heal-ms'),
    defaults.heal_ms,
  )
  .option(
    '--liveness-ms <ms>',
    'after the heal, how long clients get to make progress',
    positiveInt('--liveness-ms'),
    defaults.livenessBound_ms,
  )
  .option(
    '--think-ms <ms>',
    "pause between one client's operations",
    positiveInt('--think-ms'),
    defaults.thinkTime_ms,
  )
  .option(
    '--params <json>',
    'stack parameters as JSON, e.g. \'{"electionTimeout_ms":50}\'',
    parseParams,
    {},
  )
  .option(
    '--mutation <name...>',
    'deliberately broken variants: half-quorum, skip-replay',
    parseMutations,
  )
  .option('--faults <kinds>', `comma-separated nemesis fault kinds (${nemesisActions.join(',')})`)
  .option('--validate', 'parse every message with the stack schema (slower)', false)
  .option(
    '--byzantine <mode>',
    'pbft: "random" draws one Byzantine replica and behaviour per seed (into params.byzantine)',
  )
  .option('--workers <n>', 'worker threads (default: cores)', positiveInt('--workers'))
  .option('--tail <n>', 'event-log lines to print for a failing seed', positiveInt('--tail'), 40)
  .option(
    '--expect-violation',
    'succeed only if some seed fails (mutation proof); stops at the first',
    false,
  )
  .action(async (opts: Record<string, unknown>) => {
    const mutations = (opts['mutation'] as Record<string, unknown> | undefined) ?? null;
    const params = { ...(opts['params'] as Record<string, unknown>) };
    if (mutations !== null)
      params['mutations'] = { ...(params['mutations'] as object), ...mutations };
    const faults =
      typeof opts['faults'] === 'string'
        ? (opts['faults'].split(',') as NemesisAction[])
        : undefined;
    if (opts['byzantine'] !== undefined && opts['byzantine'] !== 'random') {
      throw new InvalidArgumentError(
        `--byzantine takes "random", got "${String(opts['byzantine'])}"; for fixed ones use --params '{"byzantine":{"n1":"equivocate"}}'`,
      );
    }
    for (const f of faults ?? []) {
      if (!nemesisActions.includes(f)) {
        throw new InvalidArgumentError(
          `unknown fault kind "${f}"; known: ${nemesisActions.join(', ')}`,
        );
      }
    }
    const code = await simCommand({
      job: {
        stack: String(opts['stack']),
        params,
        nodes: opts['nodes'] as number,
        clients: opts['clients'] as number,
        keys: opts['keys'] as number,
        heal_ms: opts['healMs'] as number,
        livenessBound_ms: opts['livenessMs'] as number,
        thinkTime_ms: opts['thinkMs'] as number,
        validateMessages: opts['validate'] === true,
        nemesisKinds: faults,
        ...(opts['byzantine'] === 'random' ? { byzantine: 'random' as const } : {}),
      },
      firstSeed: opts['firstSeed'] as number,
      seeds: opts['seeds'] as number,
      seed: opts['seed'] as number | undefined,
      workers: opts['workers'] as number | undefined,
      tail: opts['tail'] as number,
      expectViolation: opts['expectViolation'] === true,
      print: (line) => console.log(line),
    });
    process.exitCode = code;
  });

function durationArg(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0)
    throw new InvalidArgumentError(`expected a duration like "30s" or "500ms", got "${value}"`);
  return ms;
}

const interactive = process.stdout.isTTY === true;
const writeInPlace = (text: string): void => {
  process.stdout.write(text);
};

program
  .command('run')
  .description(
    'run a lab on a testbed: live status, recording, checks at the end (exit 0 pass, 1 check failed, 2 could not run)',
  )
  .argument('<lab.yaml>', 'lab file, e.g. labs/paxos-leader-crash/lab.yaml')
  .option('--nodes <n>', 'override the number of replicas', positiveInt('--nodes'))
  .option('--duration <duration>', 'override the duration, e.g. 30s', durationArg)
  .option('--seed <n>', 'override the seed', positiveInt('--seed'))
  .option('--testbed <kind>', 'override the testbed: local, netns (root) or ssh (with --inventory)')
  .option('--inventory <file.yaml>', 'the SSH hosts for --testbed ssh')
  .option(
    '--accept-host-key <SHA256:fingerprint...>',
    'trust these host keys of hosts not yet known, and remember them',
  )
  .option('--known-hosts <file>', 'trust the host keys in this file instead of ~/.ssh/known_hosts')
  .option('--out <dir>', 'where run directories go', 'runs')
  .option(
    '--commands',
    'read operator commands (crash leader, heal…) from stdin even when it is not a terminal',
    false,
  )
  .action(async (labPath: string, opts: Record<string, unknown>) => {
    process.exitCode = await runCommand({
      labPath,
      nodes: opts['nodes'] as number | undefined,
      duration_ms: opts['duration'] as number | undefined,
      seed: opts['seed'] as number | undefined,
      testbed: opts['testbed'] as string | undefined,
      inventory: opts['inventory'] as string | undefined,
      acceptHostKeys: opts['acceptHostKey'] as string[] | undefined,
      knownHostsFile: opts['knownHosts'] as string | undefined,
      outDir: String(opts['out']),
      print: (line) => console.log(line),
      interactive,
      writeInPlace,
      commands:
        process.stdin.isTTY === true || opts['commands'] === true ? process.stdin : undefined,
    });
    process.stdin.destroy(); // the command prompt must not keep the process alive
  });

program
  .command('replay')
  .description(
    're-execute a recorded run on a fresh testbed with the recorded faults, check it, compare fault timing',
  )
  .argument('<run-dir>', 'a run directory, e.g. runs/paxos-leader-crash/2026-…')
  .option('--out <dir>', 'where the new run directory goes', 'runs')
  .action(async (runDir: string, opts: Record<string, unknown>) => {
    process.exitCode = await replayCommand({
      runDir,
      outDir: String(opts['out']),
      print: (line) => console.log(line),
      interactive,
      writeInPlace,
    });
  });

program
  .command('check')
  .description(
    're-run the checkers offline on a recording and write checks.json (exit 0 pass, 1 fail, 2 could not check)',
  )
  .argument('<run-dir>', 'a run directory')
  .option(
    '--lenient',
    'skip damaged lines in the middle of the recording instead of giving up',
    false,
  )
  .option(
    '--budget-ms <ms>',
    'time budget of the linearizability search',
    positiveInt('--budget-ms'),
  )
  .action(async (runDir: string, opts: Record<string, unknown>) => {
    process.exitCode = await checkCommand({
      runDir,
      lenient: opts['lenient'] === true,
      linearizabilityBudget_ms: opts['budgetMs'] as number | undefined,
      print: (line) => console.log(line),
    });
  });

program
  .command('runs')
  .description('list recordings with their verdicts, newest first')
  .option('--dir <dir>', 'where run directories are', 'runs')
  .action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runsCommand({
      dir: String(opts['dir']),
      print: (line) => console.log(line),
    });
  });

registerServeCommand(program, positiveInt('--port'));
registerTestbedCommand(program, positiveInt('--nodes'));
registerPreflightCommand(program, positiveInt('--nodes'));

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`faultlab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
});
