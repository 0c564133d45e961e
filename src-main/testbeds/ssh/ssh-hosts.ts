import type { AcceptUnknownHost } from '../../ssh/host-key-policy';
import type { KnownHosts } from '../../ssh/known-hosts';
import { SshConnection, type ReconnectPolicy, type SshStateChange } from '../../ssh/ssh-connection';
import type { AskPassphrase } from '../../ssh/ssh-auth';
import type { SshTarget } from '../../ssh/ssh-target';

/**
 * Connections to the hosts of a testbed, opened in parallel, jump hosts shared (one connection
 * per distinct jump), everything disposed together. A host that cannot be reached fails the
 * whole set with every host's reason, so the user fixes them all in one go.
 */

export interface HostKeyAcceptance {
  /** Fingerprints (SHA256:…) the user accepted up front (--accept-host-key). */
  readonly fingerprints: readonly string[];
  /** Asked for any other unknown key (an interactive prompt); absent = refuse. */
  readonly ask?: AcceptUnknownHost;
}

/** How every link of a testbed is opened: whom to trust, how to log in, how to keep it up. */
export interface SshLinkOptions {
  readonly knownHosts: KnownHosts;
  readonly acceptance?: HostKeyAcceptance;
  readonly askPassphrase?: AskPassphrase;
  readonly agentSocket?: string | null;
  readonly reconnect?: ReconnectPolicy | false;
  readonly keepaliveIntervalMs?: number;
}

export interface ConnectHostsOptions extends SshLinkOptions {
  readonly readyTimeoutMs?: number;
  readonly onWarning?: (message: string) => void;
  readonly onStateChange?: (name: string, change: SshStateChange) => void;
  /**
   * Each host's connection as soon as it is up, before the others are: work on one host need
   * not wait for the slowest. If the set fails, these connections are disposed with it.
   */
  readonly onConnected?: (name: string, connection: SshConnection) => void;
}

/** The acceptance policy as ssh-connection wants it. */
export function acceptUnknownHostFrom(
  acceptance: HostKeyAcceptance | undefined,
): AcceptUnknownHost {
  return async (fingerprint, host) => {
    if (acceptance === undefined) return false;
    if (acceptance.fingerprints.includes(fingerprint)) return true;
    return acceptance.ask === undefined ? false : acceptance.ask(fingerprint, host);
  };
}

export class SshHosts {
  private constructor(
    private readonly byName: ReadonlyMap<string, SshConnection>,
    private readonly jumps: readonly SshConnection[],
  ) {}

  static async connect(
    targets: readonly SshTarget[],
    options: ConnectHostsOptions,
  ): Promise<SshHosts> {
    const jumpConnections = new Map<string, Promise<SshConnection>>();
    const accept = acceptUnknownHostFrom(options.acceptance);
    const open = (target: SshTarget, jump: SshConnection | undefined): Promise<SshConnection> =>
      SshConnection.connect({
        host: target.host,
        port: target.port,
        user: target.user,
        identityFiles: target.identityFiles,
        askPassphrase: options.askPassphrase,
        agentSocket: options.agentSocket,
        knownHosts: options.knownHosts,
        acceptUnknownHost: accept,
        jump,
        reconnect: options.reconnect,
        readyTimeoutMs: options.readyTimeoutMs,
        keepaliveIntervalMs: options.keepaliveIntervalMs,
        onWarning: options.onWarning,
      });
    const viaJump = async (target: SshTarget): Promise<SshConnection | undefined> => {
      if (target.jump === null) return undefined;
      const key = jumpKey(target.jump);
      let pending = jumpConnections.get(key);
      if (pending === undefined) {
        const hop = target.jump;
        pending = viaJump(hop).then((outer) => open(hop, outer));
        jumpConnections.set(key, pending);
      }
      return pending;
    };
    const settled = await Promise.allSettled(
      targets.map(async (t) => {
        const connection = await open(t, await viaJump(t));
        if (options.onStateChange !== undefined) {
          const listener = options.onStateChange;
          connection.onStateChange((change) => listener(t.name, change));
        }
        options.onConnected?.(t.name, connection);
        return [t.name, connection] as const;
      }),
    );
    const jumps = (await Promise.allSettled(jumpConnections.values()))
      .filter((r): r is PromiseFulfilledResult<SshConnection> => r.status === 'fulfilled')
      .map((r) => r.value);
    const opened = settled
      .filter(
        (r): r is PromiseFulfilledResult<readonly [string, SshConnection]> =>
          r.status === 'fulfilled',
      )
      .map((r) => r.value);
    const failures = settled.flatMap((r, i) =>
      r.status === 'rejected' ? [`${targets[i]?.name ?? '?'}: ${(r.reason as Error).message}`] : [],
    );
    const hosts = new SshHosts(new Map(opened), jumps);
    if (failures.length > 0) {
      await hosts.dispose();
      throw new Error(
        `could not connect to ${failures.length} of ${targets.length} hosts:\n  ${failures.join('\n  ')}`,
      );
    }
    return hosts;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): SshConnection {
    const c = this.byName.get(name);
    if (c === undefined) {
      throw new Error(`no SSH connection to host "${name}" (hosts: ${this.names.join(', ')})`);
    }
    return c;
  }

  /** Targets first, then jump hosts (the targets' links run through them). */
  async dispose(): Promise<void> {
    await Promise.all([...this.byName.values()].map((c) => c.dispose()));
    await Promise.all(this.jumps.map((c) => c.dispose()));
  }
}

function jumpKey(t: SshTarget): string {
  return `${t.user}@${t.host}:${t.port}${t.jump === null ? '' : `/${jumpKey(t.jump)}`}`;
}
