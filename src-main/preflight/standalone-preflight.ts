import { randomUUID } from 'node:crypto';
import { loadInventory } from '../ssh/inventory';
import { defaultKnownHostsFiles, KnownHosts } from '../ssh/known-hosts';
import { rememberPassphrases } from '../ssh/remembered-passphrases';
import type { AskPassphrase } from '../ssh/ssh-auth';
import { SshConfig } from '../ssh/ssh-config';
import { resolveTarget, type SshTarget } from '../ssh/ssh-target';
import { NetnsTestbed } from '../testbeds/netns/netns-testbed';
import { requireRoot } from '../testbeds/netns/netns-testbed-up';
import { askOnTerminal } from '../testbeds/ssh/ssh-testbed-from-inventory';
import { SshHosts, type HostKeyAcceptance } from '../testbeds/ssh/ssh-hosts';
import type { NodePlan } from '../testbeds/testbed';
import type { PreflightResult } from './preflight-result';
import { preflightProvisioned } from './preflighted-testbed';
import { runPreflight, type PreflightHost } from './run-preflight';

/** `faultlab preflight` and the dashboard's preflight.run: a preflight without a run. */
export type StandalonePreflightArgs =
  | {
      readonly testbed: 'ssh';
      readonly inventory: string;
      readonly knownHostsFile?: string;
      readonly acceptHostKeys?: readonly string[];
      /** Ask about unknown host keys on the terminal. */
      readonly interactive?: boolean;
      /** The passphrase of an encrypted identity file (a terminal prompt, the page's dialog). */
      readonly askPassphrase?: AskPassphrase;
      readonly log?: (line: string) => void;
    }
  | {
      readonly testbed: 'netns';
      /** Namespaces to bring up for the check (a run uses replicas + 1). */
      readonly nodes: number;
      readonly log?: (line: string) => void;
    };

/**
 * SSH hosts of an inventory, each connected on its own so one unreachable host is one failed
 * check among the others' results. No ports are known yet: each host must let the agents
 * listen on its address at all.
 */
async function preflightInventory(
  args: Extract<StandalonePreflightArgs, { testbed: 'ssh' }>,
): Promise<PreflightResult> {
  const inventory = loadInventory(args.inventory);
  const config = SshConfig.load();
  for (const w of config.warnings) args.log?.(`~/.ssh/config: ${w}`);
  const targets: SshTarget[] = inventory.hosts.map((h) => resolveTarget(h.name, inventory, config));
  const files = defaultKnownHostsFiles();
  const knownHosts = new KnownHosts(
    args.knownHostsFile === undefined ? files : { ...files, userFile: args.knownHostsFile },
  );
  // Unknown keys nobody accepted are collected for the result (the dashboard's dialog shows
  // them); on a terminal the user is asked instead.
  const unknownHostKeys: { host: string; fingerprint: string }[] = [];
  const acceptance: HostKeyAcceptance = {
    fingerprints: args.acceptHostKeys ?? [],
    ask:
      args.interactive === true
        ? askOnTerminal
        : (fingerprint, host) => {
            unknownHostKeys.push({ host, fingerprint });
            return Promise.resolve(false);
          },
  };
  // Every host connects at once, most of them with the same key: one question per key.
  const askPassphrase =
    args.askPassphrase === undefined ? undefined : rememberPassphrases(args.askPassphrase);
  const opened = await Promise.all(
    targets.map(async (t) => {
      try {
        return {
          t,
          hosts: await SshHosts.connect([t], {
            knownHosts,
            acceptance,
            askPassphrase,
            reconnect: false,
          }),
          error: null,
        };
      } catch (err) {
        return {
          t,
          hosts: null,
          error: (err as Error).message
            .replace(/^could not connect to 1 of 1 hosts:\s*/, '')
            .replace(`${t.name}: `, ''),
        };
      }
    }),
  );
  try {
    const hosts: PreflightHost[] = opened.map(({ t, hosts: h, error }) => ({
      name: t.name,
      address: t.host,
      connection: h === null ? null : h.get(t.name),
      unreachable: error,
      ports: [],
    }));
    return await runPreflight({ testbed: 'ssh', hosts, kernel: { kind: 'ssh' }, unknownHostKeys });
  } finally {
    await Promise.all(opened.map((o) => o.hosts?.dispose()));
  }
}

/**
 * A netns testbed brought up exactly as a run would (namespaces, sshds, SSH links, agent
 * ports), checked, and taken down again.
 */
async function preflightNetns(
  args: Extract<StandalonePreflightArgs, { testbed: 'netns' }>,
): Promise<PreflightResult> {
  requireRoot();
  const tb = new NetnsTestbed({ log: args.log ?? (() => undefined) });
  try {
    const plan: NodePlan[] = Array.from({ length: args.nodes }, (_, i) => ({
      id: `n${i + 1}`,
      role: i === args.nodes - 1 && args.nodes > 1 ? 'workload' : 'replica',
    }));
    const nodes = await tb.provision(`preflight-${randomUUID().slice(0, 8)}`, plan);
    const ssh = tb.ssh;
    const info = tb.testbed;
    if (ssh === null || info === null) throw new Error('netns testbed: provision did not finish');
    return await preflightProvisioned(ssh, nodes, { kind: 'netns', netem: info.netem }, 'netns');
  } finally {
    await tb.teardown({ grace_ms: 500 });
  }
}

export function runStandalonePreflight(args: StandalonePreflightArgs): Promise<PreflightResult> {
  return args.testbed === 'ssh' ? preflightInventory(args) : preflightNetns(args);
}
