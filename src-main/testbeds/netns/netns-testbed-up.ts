import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { detectNetem, type NetemStatus } from './netem-detect';
import { removeLeftovers, type LeftoverReport } from './netns-leftovers';
import {
  assertTestbedId,
  bridgeIp,
  bridgeName,
  MAX_NODES,
  namespaceName,
  newTestbedId,
  NFT_FAMILY,
  nftTableName,
  NODE_IFNAME,
  nodeIp,
  nodeName,
  parseSubnet,
  runtimeDirFromEnv,
  stateFilePath,
  subnetText,
  testbedFilesDir,
  vethName,
  type Subnet,
} from './netns-names';
import { generateKey, prepareSshd, readPublicKey, startSshd, waitForSshd } from './netns-sshd';
import { describeReport, ownedByState, removeOwned } from './netns-testbed-down';
import {
  listStateIds,
  readState,
  selfIdentity,
  withRuntimeLock,
  writeState,
  type NetnsState,
} from './netns-state';
import { findTool, runTool } from './run-tool';

export interface NetnsUpOptions {
  readonly nodes: number;
  /** A /24 such as "10.77.5.0/24"; default: the first free 10.77.<k>.0/24. */
  readonly subnet?: string;
  /** 1–6 of [a-z0-9]; default: random. */
  readonly id?: string;
  /** Where state files, keys and sshd configs live; default $FAULTLAB_RUNTIME_DIR or /run/faultlab. */
  readonly runtimeDir?: string;
  /** For `faultlab testbed up`: the testbed stays after this process exits, until `down`. */
  readonly keepAfterOwnerExit?: boolean;
  readonly log?: (line: string) => void;
}

/** One node, shaped for an SSH inventory entry. */
export interface NetnsHost {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly port: 22;
  readonly user: 'root';
  readonly identityFile: string;
  /** "ssh-ed25519 AAAA…": pin it, the SSH testbed need not ask the user to accept it. */
  readonly hostPublicKey: string;
  readonly sshdPid: number;
}

export interface StepTiming {
  readonly step: string;
  readonly duration_ms: number;
}

export interface NetnsTestbed {
  readonly id: string;
  readonly runtimeDir: string;
  readonly stateFile: string;
  readonly subnet: string;
  readonly bridge: { readonly name: string; readonly ip: string };
  /** Where kernel faults put their rules (kernel-faults.ts). */
  readonly nftTable: { readonly family: string; readonly name: string };
  readonly hosts: readonly NetnsHost[];
  readonly netem: NetemStatus;
  readonly leftovers: LeftoverReport;
  /** Per-step durations of `up`, for benchmarks. */
  readonly timings: readonly StepTiming[];
}

const ROOT_NEEDED =
  'the netns testbed needs root (network namespaces, bridges, veths and nftables need ' +
  'CAP_NET_ADMIN): run FaultLab as root (sudo), or use the local testbed, which needs ' +
  'nothing: --testbed local';

/** Throws the "needs root, or use the local testbed" error unless `uid` is root's. */
export function requireRoot(uid: number | undefined = process.getuid?.()): void {
  if (uid !== 0) throw new Error(ROOT_NEEDED);
}

/** IPv4 /24s in use on this machine (addresses and routes), as "a.b.c" prefixes. */
async function usedPrefixes(): Promise<Set<string>> {
  const [addrs, routes] = await Promise.all([
    runTool('ip', ['-j', '-4', 'addr', 'show'], { hint: 'check: ip -4 addr show' }),
    runTool('ip', ['-j', '-4', 'route', 'show'], { hint: 'check: ip -4 route show' }),
  ]);
  const used = new Set<string>();
  const prefixOf = (ip: unknown): void => {
    if (typeof ip !== 'string') return;
    const m = /^(\d+\.\d+\.\d+)\./.exec(ip);
    if (m?.[1] !== undefined) used.add(m[1]);
  };
  for (const link of JSON.parse(addrs.stdout || '[]') as { addr_info?: { local?: unknown }[] }[]) {
    for (const a of link.addr_info ?? []) prefixOf(a.local);
  }
  for (const r of JSON.parse(routes.stdout || '[]') as { dst?: unknown }[]) {
    if (typeof r.dst === 'string' && r.dst !== 'default') prefixOf(r.dst);
  }
  return used;
}

async function chooseSubnet(runtimeDir: string, wanted: string | undefined): Promise<Subnet> {
  const used = await usedPrefixes();
  for (const id of await listStateIds(runtimeDir)) {
    const s = await readState(runtimeDir, id);
    if (s !== null) used.add(parseSubnet(s.subnet).prefix);
  }
  if (wanted !== undefined) {
    const subnet = parseSubnet(wanted);
    if (used.has(subnet.prefix)) {
      throw new Error(
        `netns testbed: subnet ${wanted} is already in use on this machine (an address, a ` +
          'route or another testbed); pass another --subnet, or none to pick a free one',
      );
    }
    return subnet;
  }
  for (let k = 77; k < 77 + 256; k++) {
    const prefix = `10.77.${k % 256}`;
    if (!used.has(prefix)) return { prefix };
  }
  throw new Error('netns testbed: every 10.77.<k>.0/24 is in use; pass --subnet a.b.c.0/24');
}

/**
 * `faultlab testbed up --kind netns`: N namespaces on a bridge, each with its own IP and its
 * own sshd, ready for the SSH testbed. Leftovers of crashed runs are removed first. On any
 * failure everything created so far is removed before the error is raised.
 */
export async function up(options: NetnsUpOptions): Promise<NetnsTestbed> {
  const log = options.log ?? (() => undefined);
  const timings: StepTiming[] = [];
  const timed = async <T>(step: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await body();
    } finally {
      timings.push({ step, duration_ms: performance.now() - t0 });
    }
  };
  const n = options.nodes;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NODES) {
    throw new Error(`netns testbed: nodes must be an integer in 1..${MAX_NODES}, got ${n}`);
  }
  requireRoot();
  await timed('preflight', async () => {
    for (const tool of ['ip', 'tc', 'nft', 'sshd', 'ssh-keygen', 'unshare']) findTool(tool);
  });
  const runtimeDir = options.runtimeDir ?? runtimeDirFromEnv();

  const { state, subnet, leftovers } = await timed('leftovers-and-claim', () =>
    withRuntimeLock(runtimeDir, async () => {
      const leftovers = await removeLeftovers(runtimeDir);
      const id = options.id ?? newTestbedId();
      assertTestbedId(id);
      if ((await readState(runtimeDir, id)) !== null) {
        throw new Error(
          `netns testbed: a testbed with id "${id}" is running (${stateFilePath(runtimeDir, id)}); ` +
            `take it down first (npx faultlab testbed down --id ${id}) or choose another id`,
        );
      }
      const subnet = await chooseSubnet(runtimeDir, options.subnet);
      const indexes = Array.from({ length: n }, (_, i) => i + 1);
      const state: NetnsState = {
        version: 1,
        id,
        createdAt: new Date().toISOString(),
        owner: selfIdentity(),
        keepAfterOwnerExit: options.keepAfterOwnerExit ?? false,
        subnet: subnetText(subnet),
        bridge: bridgeName(id),
        namespaces: indexes.map((i) => namespaceName(id, i)),
        veths: indexes.map((i) => vethName(id, i)),
        nftTables: [{ family: NFT_FAMILY, name: nftTableName(id) }],
        filesDir: testbedFilesDir(runtimeDir, id),
        sshd: [],
      };
      await writeState(runtimeDir, state);
      return { state, subnet, leftovers };
    }),
  );
  for (const r of leftovers.removed) log(`leftovers of a crashed run: ${describeReport(r)}`);

  try {
    return await build(state, subnet, runtimeDir, leftovers, timings, timed, log);
  } catch (err) {
    try {
      await removeOwned(ownedByState(runtimeDir, (await readState(runtimeDir, state.id)) ?? state));
    } catch (cleanupErr) {
      throw new Error(
        `${(err as Error).message}\n(cleanup after that failure also failed: ${(cleanupErr as Error).message})`,
      );
    }
    throw err;
  }
}

async function build(
  state: NetnsState,
  subnet: Subnet,
  runtimeDir: string,
  leftovers: LeftoverReport,
  timings: StepTiming[],
  timed: <T>(step: string, body: () => Promise<T>) => Promise<T>,
  log: (line: string) => void,
): Promise<NetnsTestbed> {
  const { id } = state;
  const n = state.namespaces.length;
  const indexes = Array.from({ length: n }, (_, i) => i + 1);
  const filesDir = state.filesDir;
  const identityFile = join(filesDir, 'id_ed25519');
  const authorizedKeys = join(filesDir, 'authorized_keys');

  const sshdFiles = await timed('keys', async () => {
    await mkdir(filesDir, { recursive: true, mode: 0o700 });
    await generateKey(identityFile, `faultlab-${id}`);
    await copyFile(`${identityFile}.pub`, authorizedKeys);
    return Promise.all(
      indexes.map((i) =>
        prepareSshd(
          join(filesDir, nodeName(i)),
          nodeIp(subnet, i),
          authorizedKeys,
          `faultlab-${id}-${nodeName(i)}`,
        ),
      ),
    );
  });

  await timed('links', async () => {
    // One `ip -batch` for the root namespace: one process instead of 4N+4.
    const br = state.bridge;
    const lines = [
      `link add ${br} type bridge`,
      `addr add ${bridgeIp(subnet)}/24 dev ${br}`,
      `link set ${br} up`,
      ...indexes.flatMap((i) => [
        `netns add ${namespaceName(id, i)}`,
        `link add ${vethName(id, i)} type veth peer name ${NODE_IFNAME} netns ${namespaceName(id, i)}`,
        `link set ${vethName(id, i)} master ${br} up`,
      ]),
    ];
    await runTool('ip', ['-batch', '-'], {
      input: `${lines.join('\n')}\n`,
      hint: `creating the bridge ${br} and ${n} namespaces failed (the line number after "-:" says which step); the names are printed above`,
    });
  });

  await timed('addresses', () =>
    Promise.all(
      indexes.map((i) =>
        runTool('ip', ['-n', namespaceName(id, i), '-batch', '-'], {
          input: [
            `addr add ${nodeIp(subnet, i)}/24 dev ${NODE_IFNAME}`,
            `link set ${NODE_IFNAME} up`,
            'link set lo up',
            `route add default via ${bridgeIp(subnet)}`,
            '',
          ].join('\n'),
          hint: `configuring ${NODE_IFNAME} in namespace ${namespaceName(id, i)} failed`,
        }),
      ),
    ),
  );

  const sshds = await timed('sshd-start', async () => {
    const started = [];
    for (const i of indexes) {
      const files = sshdFiles[i - 1];
      if (files === undefined) throw new Error('netns testbed: internal error: missing sshd files');
      const who = await startSshd(namespaceName(id, i), nodeName(i), files);
      started.push(who);
      // Recorded as soon as it exists, so a crash from here on still finds it by PID.
      state.sshd.push({
        node: nodeName(i),
        namespace: namespaceName(id, i),
        configPath: files.configPath,
        process: who,
      });
    }
    await writeState(runtimeDir, state);
    return started;
  });

  await timed('sshd-ready', () =>
    Promise.all(
      indexes.map((i) =>
        waitForSshd(nodeIp(subnet, i), sshds[i - 1]!, sshdFiles[i - 1]!, nodeName(i)),
      ),
    ),
  );

  const netem = await timed('netem-detect', () => detectNetem(namespaceName(id, 1)));
  if (!netem.available) log(netem.reason);

  const hosts = await Promise.all(
    indexes.map(async (i): Promise<NetnsHost> => ({
      name: nodeName(i),
      namespace: namespaceName(id, i),
      ip: nodeIp(subnet, i),
      port: 22,
      user: 'root',
      identityFile,
      hostPublicKey: await readPublicKey(`${sshdFiles[i - 1]!.hostKey}.pub`),
      sshdPid: sshds[i - 1]!.pid,
    })),
  );
  log(
    `netns testbed ${id} up: ${n} nodes on ${state.subnet} (bridge ${state.bridge} at ${bridgeIp(subnet)})`,
  );
  return {
    id,
    runtimeDir,
    stateFile: stateFilePath(runtimeDir, id),
    subnet: state.subnet,
    bridge: { name: state.bridge, ip: bridgeIp(subnet) },
    nftTable: { family: NFT_FAMILY, name: nftTableName(id) },
    hosts,
    netem,
    leftovers,
    timings,
  };
}
