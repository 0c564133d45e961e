import type { Command } from 'commander';
import { formatPreflight } from '../preflight/preflight-table';
import { runStandalonePreflight } from '../preflight/standalone-preflight';
import { askPassphraseOnTerminal } from './passphrase-prompt';

export interface PreflightCommandArgs {
  readonly testbed: string;
  readonly inventory?: string;
  readonly knownHostsFile?: string;
  readonly acceptHostKeys?: readonly string[];
  readonly nodes?: number;
  readonly json?: boolean;
  readonly print: (line: string) => void;
}

/**
 * `faultlab preflight --testbed ssh --inventory f.yaml` / `--testbed netns`: the checks a run
 * makes before it starts, on their own. Exit 0 when every required check passes, 1 when one
 * fails, 2 when the preflight itself could not run.
 */
export async function preflightCommand(args: PreflightCommandArgs): Promise<number> {
  const { print } = args;
  try {
    let result;
    if (args.testbed === 'ssh') {
      if (args.inventory === undefined) {
        print('faultlab preflight: --testbed ssh needs --inventory <file.yaml> listing the hosts');
        return 2;
      }
      result = await runStandalonePreflight({
        testbed: 'ssh',
        inventory: args.inventory,
        knownHostsFile: args.knownHostsFile,
        acceptHostKeys: args.acceptHostKeys,
        interactive: process.stdin.isTTY === true && args.json !== true,
        // The prompt goes to stderr, so --json output stays clean.
        ...(process.stdin.isTTY === true ? { askPassphrase: askPassphraseOnTerminal } : {}),
        log: (line) => print(`  ${line}`),
      });
    } else if (args.testbed === 'netns') {
      result = await runStandalonePreflight({
        testbed: 'netns',
        nodes: args.nodes ?? 3,
        log: args.json === true ? () => undefined : (line) => print(`  ${line}`),
      });
    } else {
      print(
        `faultlab preflight: --testbed must be ssh or netns, got "${args.testbed}" (the local testbed needs no preflight)`,
      );
      return 2;
    }
    if (args.json === true) print(JSON.stringify(result, null, 2));
    else for (const line of formatPreflight(result)) print(line);
    return result.ok ? 0 : 1;
  } catch (err) {
    print(`faultlab preflight: ${(err as Error).message}`);
    return 2;
  }
}

/** Registers `faultlab preflight`. */
export function registerPreflightCommand(
  program: Command,
  positiveInt: (value: string) => number,
): void {
  program
    .command('preflight')
    .description(
      'check the hosts of an SSH or netns testbed before a run: reachable, Node, ports, clocks, RTTs, kernel faults (exit 0 ok, 1 a required check failed, 2 could not check)',
    )
    .requiredOption('--testbed <kind>', 'ssh (with --inventory) or netns (root)')
    .option('--inventory <file.yaml>', 'the SSH hosts for --testbed ssh')
    .option(
      '--known-hosts <file>',
      'trust the host keys in this file instead of ~/.ssh/known_hosts',
    )
    .option(
      '--accept-host-key <SHA256:fingerprint...>',
      'trust these host keys of hosts not yet known',
    )
    .option('--nodes <n>', 'netns: namespaces to bring up for the check (default 3)', positiveInt)
    .option('--json', 'print the result as JSON', false)
    .action(async (opts: Record<string, unknown>) => {
      process.exitCode = await preflightCommand({
        testbed: String(opts['testbed']),
        inventory: opts['inventory'] as string | undefined,
        knownHostsFile: opts['knownHosts'] as string | undefined,
        acceptHostKeys: opts['acceptHostKey'] as string[] | undefined,
        nodes: opts['nodes'] as number | undefined,
        json: opts['json'] === true,
        print: (line) => console.log(line),
      });
    });
}
