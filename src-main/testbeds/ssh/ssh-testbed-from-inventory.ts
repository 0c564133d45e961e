import { createInterface } from 'node:readline/promises';
import { loadInventory } from '../../ssh/inventory';
import { KnownHosts, defaultKnownHostsFiles } from '../../ssh/known-hosts';
import { SshConfig } from '../../ssh/ssh-config';
import { resolveTarget } from '../../ssh/ssh-target';
import type { AcceptUnknownHost } from '../../ssh/host-key-policy';
import type { AskPassphrase } from '../../ssh/ssh-auth';
import { SshTestbed } from './ssh-testbed';

export interface InventoryTestbedOptions {
  readonly inventoryPath: string;
  /** --accept-host-key SHA256:… (repeatable). */
  readonly acceptHostKeys?: readonly string[];
  /** Trust the keys in this known_hosts file instead of ~/.ssh/known_hosts (netns `testbed up`). */
  readonly knownHostsFile?: string;
  /** Ask about unknown keys on the terminal when stdin is one. */
  readonly interactive?: boolean;
  /** The passphrase of an encrypted identity file; absent: such a key is an error. */
  readonly askPassphrase?: AskPassphrase;
  readonly log?: (line: string) => void;
}

/** A yes/no prompt on the terminal for an unknown host key (what OpenSSH asks). */
export const askOnTerminal: AcceptUnknownHost = async (fingerprint, host) => {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `The authenticity of host ${host} can't be established.\nIts key fingerprint is ${fingerprint}.\n` +
        "Trust it and remember it in FaultLab's known-hosts file (yes/no)? ",
    );
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
};

/** `--testbed ssh --inventory f.yaml`: every host of the inventory, resolved through ~/.ssh/config. */
export function sshTestbedFromInventory(options: InventoryTestbedOptions): SshTestbed {
  const inventory = loadInventory(options.inventoryPath);
  const config = SshConfig.load();
  for (const warning of config.warnings) options.log?.(`~/.ssh/config: ${warning}`);
  const targets = inventory.hosts.map((h) => resolveTarget(h.name, inventory, config));
  const files = defaultKnownHostsFiles();
  const knownHosts = new KnownHosts(
    options.knownHostsFile === undefined ? files : { ...files, userFile: options.knownHostsFile },
  );
  return new SshTestbed({
    targets,
    knownHosts,
    acceptance: {
      fingerprints: options.acceptHostKeys ?? [],
      ...(options.interactive === true ? { ask: askOnTerminal } : {}),
    },
    askPassphrase: options.askPassphrase,
    log: options.log,
  });
}
