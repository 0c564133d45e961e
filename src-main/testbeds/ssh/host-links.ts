import { posix } from 'node:path';
import type { SshConnection, SshStateChange } from '../../ssh/ssh-connection';
import type { SshTarget } from '../../ssh/ssh-target';
import {
  MIN_NODE_MAJOR,
  nodeProbeCommand,
  parseNodeProbe,
  parseProbedPorts,
  remotePath,
  type NodeProbe,
} from './remote-commands';
import { RemoteShell, type ShellResult } from './remote-shell';
import { SshHosts, type SshLinkOptions } from './ssh-hosts';

/**
 * The SSH links of a testbed's hosts and what was learnt about each host. Two links per host:
 * one carries the agents' control streams (heavy: every event of the run), the other the
 * commands (start, kill, pause, watchers), so a kill never queues behind megabytes of events
 * (one TCP connection, one SSH window) and a crash takes effect when the script says.
 *
 * Every command goes through one `sh` per host on the command link (RemoteShell): an exec
 * channel per command would run the user's shell startup files each time, the largest cost of
 * a deploy on hosts whose .bashrc does real work.
 */

export interface HostState {
  readonly target: SshTarget;
  readonly probe: NodeProbe;
  /** FaultLab's directory on the host: the bundle lives here across runs. */
  readonly root: string;
  readonly bundlePath: string;
}

export type LinkRole = 'streams' | 'commands';

export interface HostLinksOptions extends SshLinkOptions {
  /** Where FaultLab keeps its files on a host without an inventory workDir. */
  readonly defaultRoot?: string;
  /** Free ports to find on a host (by name) along with the probe: what provision will need. */
  readonly portsWanted?: ReadonlyMap<string, { address: string; count: number }>;
  readonly onWarning: (message: string) => void;
  readonly onStateChange: (hostName: string, role: LinkRole, change: SshStateChange) => void;
}

export const COMMAND_TIMEOUT_MS = 20_000;

export class HostLinks {
  private readonly shells = new Map<string, Promise<RemoteShell>>();
  private readonly states = new Map<string, HostState>();
  private readonly probedPorts = new Map<string, number[]>();
  private disposed = false;

  private constructor(
    private readonly streamLinks: Promise<SshHosts>,
    private readonly commandLinks: SshHosts,
    private readonly options: HostLinksOptions,
  ) {}

  /**
   * Connect to every host and check Node on each. The command links come first (they ask
   * about unknown host keys); the stream links follow once the keys are remembered or pinned.
   */
  static async open(targets: readonly SshTarget[], options: HostLinksOptions): Promise<HostLinks> {
    const connectOptions = (role: LinkRole) => ({
      knownHosts: options.knownHosts,
      acceptance: options.acceptance,
      askPassphrase: options.askPassphrase,
      agentSocket: options.agentSocket,
      reconnect: options.reconnect,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 2_000,
      onWarning: options.onWarning,
      onStateChange: (name: string, change: SshStateChange) =>
        options.onStateChange(name, role, change),
    });
    // Each host's shell opens and its probe runs as soon as its command link is up.
    const probing = new Map<string, ReturnType<typeof probeHost>>();
    const byName = new Map(targets.map((t) => [t.name, t]));
    let commands: SshHosts;
    try {
      commands = await SshHosts.connect(targets, {
        ...connectOptions('commands'),
        onConnected: (name, connection) => {
          const probe = probeHost(
            connection,
            byName.get(name)!,
            options.defaultRoot,
            options.portsWanted?.get(name) ?? null,
          );
          // Settled below, after the whole set; a failure before that is not unhandled.
          probe.catch(() => undefined);
          probing.set(name, probe);
        },
      });
    } catch (err) {
      // The set closed every link it opened; the probes on them fail with it.
      for (const r of await Promise.allSettled(probing.values())) {
        if (r.status === 'fulfilled') r.value.shell.close();
      }
      throw err;
    }
    const probed = await Promise.allSettled(targets.map((t) => probing.get(t.name)!));
    const failures = probed.flatMap((r) =>
      r.status === 'rejected' ? [(r.reason as Error).message] : [],
    );
    if (failures.length > 0) {
      for (const r of probed) if (r.status === 'fulfilled') r.value.shell.close();
      await commands.dispose();
      throw new Error(failures.join('\n'));
    }
    // The stream links are first needed by the agents' control connections: their handshakes
    // run while the hosts are provisioned and the agents boot, not before the first command.
    const streams = SshHosts.connect(targets, connectOptions('streams'));
    streams.catch(() => undefined);
    const links = new HostLinks(streams, commands, options);
    for (const r of probed) {
      if (r.status === 'fulfilled') {
        links.states.set(r.value.state.target.name, r.value.state);
        links.shells.set(r.value.state.target.name, Promise.resolve(r.value.shell));
        if (r.value.ports !== null) links.probedPorts.set(r.value.state.target.name, r.value.ports);
      }
    }
    return links;
  }

  /** The command link to a host by inventory name (commands, the command shell, uploads). */
  commands(hostName: string): SshConnection {
    return this.commandLinks.get(hostName);
  }

  /** The link for the agents' control streams, once its handshake is done. */
  async streams(hostName: string): Promise<SshConnection> {
    return (await this.streamLinks).get(hostName);
  }

  host(name: string): HostState {
    const h = this.states.get(name);
    if (h === undefined) throw new Error(`SSH testbed: host "${name}" is not connected`);
    return h;
  }

  /** The `count` free ports the probe found on the host, once; null if it found none. */
  takeProbedPorts(hostName: string, count: number): number[] | null {
    const ports = this.probedPorts.get(hostName);
    this.probedPorts.delete(hostName);
    return ports !== undefined && ports.length === count ? ports : null;
  }

  get hosts(): HostState[] {
    return [...this.states.values()];
  }

  /** Run `command` in the host's command shell; its stdout, or an error naming `what`. */
  async run(host: HostState, command: string, what: string): Promise<string> {
    let result: ShellResult;
    try {
      result = await (await this.shell(host.target.name)).run(command, COMMAND_TIMEOUT_MS);
    } catch (err) {
      throw new Error(
        `SSH testbed: could not ${what} on ${host.target.name}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (result.code !== 0) {
      throw new Error(
        `SSH testbed: could not ${what} on ${host.target.name}: exit ${String(result.code)}` +
          `${result.stderr.trim() === '' ? '' : `: ${result.stderr.trim()}`}`,
      );
    }
    return result.stdout;
  }

  /** The host's command shell, reopened when its link dropped. */
  async shell(hostName: string): Promise<RemoteShell> {
    if (this.disposed) throw new Error(`SSH testbed: the links to ${hostName} are closed`);
    let pending = this.shells.get(hostName);
    if (pending !== undefined) {
      const open = await pending.catch(() => null);
      if (open !== null && !open.isClosed) return open;
    }
    pending = this.openShell(hostName);
    this.shells.set(hostName, pending);
    return pending;
  }

  /** Close the shells, then the links (the targets' before their jump hosts'). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const shell of this.shells.values()) (await shell.catch(() => null))?.close();
    this.shells.clear();
    await (await this.streamLinks.catch(() => null))?.dispose();
    await this.commandLinks.dispose();
  }

  private async openShell(hostName: string): Promise<RemoteShell> {
    const connection = this.commands(hostName);
    await connection.whenConnected(COMMAND_TIMEOUT_MS);
    return RemoteShell.open(connection);
  }
}

/** Open the host's shell and check Node there (the first command the shell runs). */
async function probeHost(
  connection: SshConnection,
  target: SshTarget,
  defaultRoot: string | undefined,
  ports: { address: string; count: number } | null,
): Promise<{ state: HostState; shell: RemoteShell; ports: number[] | null }> {
  const shell = await RemoteShell.open(connection);
  let result: ShellResult;
  try {
    result = await shell.run(nodeProbeCommand(ports), COMMAND_TIMEOUT_MS);
  } catch (err) {
    shell.close();
    throw new Error(`${target.name} (${connection.where}): ${(err as Error).message}`);
  }
  const probe = result.code === 0 ? parseNodeProbe(result.stdout) : null;
  const fail = (message: string): never => {
    shell.close();
    throw new Error(message);
  };
  if (probe === null) {
    return fail(
      `${target.name} (${connection.where}): Node.js is missing (${result.stderr.trim() || result.stdout.trim() || `exit ${String(result.code)}`}); ` +
        `install Node ${MIN_NODE_MAJOR} or newer there (e.g. from nodejs.org or NodeSource) so that \`node\` is on the PATH of a non-interactive SSH session`,
    );
  }
  if (probe.major < MIN_NODE_MAJOR) {
    return fail(
      `${target.name} (${connection.where}): Node ${probe.version} at ${probe.nodePath} is too old; the agent needs ` +
        `Node ${MIN_NODE_MAJOR} or newer: upgrade it there`,
    );
  }
  const root = remotePath(target.workDir ?? defaultRoot ?? '~/.faultlab', probe.home);
  return {
    state: { target, probe, root, bundlePath: posix.join(root, 'agent', 'faultlab-agent.cjs') },
    shell,
    ports: ports === null ? null : parseProbedPorts(result.stdout, ports.count),
  };
}
