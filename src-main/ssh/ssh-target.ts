import { userInfo } from 'node:os';
import type { Inventory, InventoryHost } from './inventory';
import { expandHome, type SshConfig } from './ssh-config';

/**
 * Where and how to connect to one node: an inventory entry with the gaps filled from the
 * OpenSSH client config (inventory fields win, as command-line options win over ssh_config),
 * jump hosts resolved to targets themselves (first hop innermost).
 */

export interface SshTarget {
  /** The inventory (or ssh config) name. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly identityFiles: readonly string[];
  /** Connect through this host first; null = direct. */
  readonly jump: SshTarget | null;
  readonly workDir: string | null;
}

const MAX_JUMP_HOPS = 8;

export function resolveTarget(
  name: string,
  inventory: Inventory | null,
  sshConfig: SshConfig,
  depth = 0,
): SshTarget {
  if (depth > MAX_JUMP_HOPS) {
    throw new Error(
      `jump hosts for ${name} nest deeper than ${String(MAX_JUMP_HOPS)} hops; check jump/ProxyJump for a loop`,
    );
  }
  const entry: InventoryHost | undefined = inventory?.hosts.find((h) => h.name === name);
  const fromConfig = sshConfig.resolve(entry?.host ?? name);
  const port = entry?.port ?? fromConfig.port;
  const user = entry?.user ?? fromConfig.user ?? userInfo().username;
  const identityFiles =
    entry?.identityFile !== undefined
      ? [expandHome(entry.identityFile)]
      : fromConfig.identityFiles.length > 0
        ? fromConfig.identityFiles
        : defaultIdentityFiles();
  let jump: SshTarget | null = null;
  if (entry?.jump !== undefined) {
    jump = resolveTarget(entry.jump, inventory, sshConfig, depth + 1);
  } else {
    // ProxyJump a,b,c: connect to a, through it to b, through b to c, through c to the target.
    for (const hop of fromConfig.proxyJump) {
      const hopTarget = resolveTarget(hop.host, null, sshConfig, depth + 1);
      jump = {
        ...hopTarget,
        port: hop.port ?? hopTarget.port,
        user: hop.user ?? hopTarget.user,
        // The first hop keeps its own ProxyJump, as `ssh -J` does.
        jump: jump ?? hopTarget.jump,
      };
    }
  }
  return {
    name,
    host: fromConfig.hostName,
    port,
    user,
    identityFiles,
    jump,
    workDir: entry?.workDir ?? null,
  };
}

/** OpenSSH's default identities, tried in this order when none is configured. */
function defaultIdentityFiles(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((file) => expandHome(`~/.ssh/${file}`));
}
