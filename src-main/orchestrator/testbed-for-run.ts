import { PreflightedTestbed } from '../preflight/preflighted-testbed';
import type { PreflightResult } from '../preflight/preflight-result';
import { LocalTestbed } from '../testbeds/local/local-testbed';
import { NetnsTestbed } from '../testbeds/netns/netns-testbed';
import { requireRoot } from '../testbeds/netns/netns-testbed-up';
import { sshTestbedFromInventory } from '../testbeds/ssh/ssh-testbed-from-inventory';
import { rememberPassphrases } from '../ssh/remembered-passphrases';
import type { AskPassphrase } from '../ssh/ssh-auth';
import type { Testbed } from '../testbeds/testbed';

export type TestbedKind = 'local' | 'netns' | 'ssh';

export interface TestbedForRunOptions {
  /** ssh: the inventory YAML listing the hosts. */
  readonly inventory?: string;
  /** ssh: host key fingerprints (SHA256:…) accepted up front. */
  readonly acceptHostKeys?: readonly string[];
  /** ssh: trust this known_hosts file instead of ~/.ssh/known_hosts. */
  readonly knownHostsFile?: string;
  /** ssh: ask about other unknown host keys on this process's terminal. */
  readonly interactive?: boolean;
  /** ssh: the passphrase of an encrypted identity file (a terminal prompt, a dialog). */
  readonly askPassphrase?: AskPassphrase;
  /** What the testbed is doing (connects, uploads, kernel rules). */
  readonly log: (line: string) => void;
  /** The preflight table, line by line (the CLI prints it). */
  readonly print?: (line: string) => void;
  /** The preflight's result, passed or not, before the run goes on or is refused. */
  readonly onPreflight?: (result: PreflightResult) => void;
}

/**
 * The testbed a run asked for: local processes, namespaces on this machine (root), or the
 * hosts of an SSH inventory. Runs on hosts start with a preflight, and a failed required check
 * refuses the run before anything is deployed. Throws (before any work) when the choice cannot
 * work here: not root for netns, no inventory for ssh, an inventory that does not parse.
 */
export function testbedForRun(kind: TestbedKind, options: TestbedForRunOptions): Testbed {
  const preflighted = { print: options.print ?? (() => undefined), onResult: options.onPreflight };
  switch (kind) {
    case 'local':
      return new LocalTestbed();
    case 'netns':
      requireRoot();
      return new PreflightedTestbed(new NetnsTestbed({ log: options.log }), preflighted);
    case 'ssh':
      if (options.inventory === undefined) {
        throw new Error(
          'a run on SSH hosts needs an inventory: a YAML file listing the hosts (see README "Testbeds" and src-main/ssh/inventory.ts for the format)',
        );
      }
      return new PreflightedTestbed(
        sshTestbedFromInventory({
          inventoryPath: options.inventory,
          acceptHostKeys: options.acceptHostKeys,
          knownHostsFile: options.knownHostsFile,
          interactive: options.interactive,
          // The testbed connects twice to every host (commands and streams): ask once.
          askPassphrase:
            options.askPassphrase === undefined
              ? undefined
              : rememberPassphrases(options.askPassphrase),
          log: options.log,
        }),
        preflighted,
      );
  }
}
