#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { stacks } from '../../src-node-agent/stacks';
import { nemesisActions, type NemesisAction } from '../../src-node-agent/sim/nemesis';
import { defaultSeedJob } from '../explore/seed-job';
import { simCommand } from './sim-command';
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
  .showHelpAfterError();

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

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`faultlab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
});
