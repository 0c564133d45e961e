import { performance } from 'node:perf_hooks';
import type { SshConnection } from '../ssh/ssh-connection';
import type { NetemStatus } from '../testbeds/netns/netem-detect';
import { findTool } from '../testbeds/netns/run-tool';
import {
  MIN_NODE_MAJOR,
  NODE_PROBE_COMMAND,
  parseNodeProbe,
} from '../testbeds/ssh/remote-commands';
import { formatMbps, type PreflightCheck, type PreflightResult } from './preflight-result';
import { measureClockOffset } from './clock-probe';
import { KERNEL_PROBE_COMMAND, parseKernelProbe, parsePorts, portsCommand } from './remote-probes';
import {
  measureBandwidth,
  measureRtt,
  startEchoServer,
  type EchoServer,
  type ProbeHost,
} from './rtt-probe';

/** One host as the preflight sees it: its link (or why there is none) and the agent ports. */
export interface PreflightHost {
  readonly name: string;
  /** The address the agents listen on and peers dial. */
  readonly address: string;
  readonly connection: SshConnection | null;
  /** Why the host could not be reached (when connection is null). */
  readonly unreachable: string | null;
  /** Agent ports the run will use on this host; empty: check that some port is free. */
  readonly ports: readonly number[];
}

export type KernelFaultSetting =
  /** netns: rules in this machine's root namespace (a bridge table), netem as detected. */
  | { readonly kind: 'netns'; readonly netem: NetemStatus }
  /** ssh: the SSH testbed uses the agents' link filter; the hosts' tools are reported. */
  | { readonly kind: 'ssh' };

export interface PreflightOptions {
  readonly testbed: string;
  readonly hosts: readonly PreflightHost[];
  readonly kernel: KernelFaultSetting;
  /** Round trips per pair (default 20). */
  readonly rttSamples?: number;
  /** A clock offset beyond this (less its uncertainty) warns (default 100 ms). */
  readonly clockWarn_ms?: number;
  /** Pairs probed at once (default 4). */
  readonly concurrency?: number;
  /** Keys the hosts presented that nobody accepted (those hosts are unreachable rows). */
  readonly unknownHostKeys?: readonly { host: string; fingerprint: string }[];
}

const RTT_TIMEOUT_MS = 5_000;
/** How long the receiving end counts bytes for the bandwidth estimate of one pair. */
const BANDWIDTH_PROBE_MS = 200;
const BANDWIDTH_CAP_BYTES = 256 * 1024 * 1024;
/** Above this many pairs (6 hosts), bandwidth is probed around a ring: each host to the next. */
const MAX_BANDWIDTH_PAIRS = 15;

/** Each host to the next one (and the last to the first), among the pairs that answered. */
function ringPairs(
  reachable: readonly [ProbeHost, ProbeHost][],
  hosts: readonly ProbeHost[],
): [ProbeHost, ProbeHost][] {
  const ring: [ProbeHost, ProbeHost][] = [];
  hosts.forEach((h, i) => {
    const next = hosts[(i + 1) % hosts.length] as ProbeHost;
    const pair = reachable.find(([a, b]) => (a === h && b === next) || (a === next && b === h));
    if (pair !== undefined && !ring.includes(pair)) ring.push(pair);
  });
  return ring;
}

type Row = Omit<PreflightCheck, 'peer' | 'value_ms' | 'uncertainty_ms' | 'value_mbps'> &
  Partial<Pick<PreflightCheck, 'peer' | 'value_ms' | 'uncertainty_ms' | 'value_mbps'>>;

function row(r: Row): PreflightCheck {
  return { peer: null, value_ms: null, uncertainty_ms: null, value_mbps: null, ...r };
}

async function exec(
  conn: SshConnection,
  command: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return conn.exec(command, { timeoutMs: 20_000 });
}

/** Node version, free ports, clock offset and kernel-fault tools of one reachable host. */
async function hostChecks(
  host: PreflightHost,
  conn: SshConnection,
  options: PreflightOptions,
): Promise<{ checks: PreflightCheck[]; nodePath: string | null }> {
  const checks: PreflightCheck[] = [];
  const base = { host: host.name } as const;
  let nodePath: string | null = null;
  try {
    const r = await exec(conn, NODE_PROBE_COMMAND);
    const probe = r.code === 0 ? parseNodeProbe(r.stdout) : null;
    if (probe === null) {
      checks.push(
        row({
          ...base,
          check: 'node',
          required: true,
          status: 'fail',
          detail: `no usable node: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 200) || `exit ${String(r.code)}`}; install Node ${MIN_NODE_MAJOR} or newer on the host`,
        }),
      );
    } else if (probe.major < MIN_NODE_MAJOR) {
      checks.push(
        row({
          ...base,
          check: 'node',
          required: true,
          status: 'fail',
          detail: `${probe.nodePath} is ${probe.version}, older than the v${MIN_NODE_MAJOR} the agent needs; install Node ${MIN_NODE_MAJOR} or newer`,
        }),
      );
    } else {
      nodePath = probe.nodePath;
      checks.push(
        row({
          ...base,
          check: 'node',
          required: true,
          status: 'pass',
          detail: `${probe.version} (${probe.nodePath})`,
        }),
      );
    }
  } catch (e) {
    checks.push(
      row({ ...base, check: 'node', required: true, status: 'fail', detail: (e as Error).message }),
    );
  }

  if (nodePath === null) {
    checks.push(
      row({ ...base, check: 'ports', required: true, status: 'skipped', detail: 'needs node' }),
    );
  } else {
    const ports = host.ports.length > 0 ? host.ports : [0];
    try {
      const r = await exec(conn, portsCommand(nodePath, host.address, ports));
      const found = parsePorts(r.stdout);
      const bad = ports.flatMap((p) => {
        const s = found.get(p) ?? `no answer (${r.stderr.trim().slice(0, 120)})`;
        return s === 'ok' ? [] : [`${p === 0 ? 'any port' : String(p)}: ${s}`];
      });
      const what = host.ports.length > 0 ? `agent port(s) ${host.ports.join(', ')}` : 'a port';
      checks.push(
        bad.length === 0
          ? row({
              ...base,
              check: 'ports',
              required: true,
              status: 'pass',
              detail: `${what} free on ${host.address}`,
            })
          : row({
              ...base,
              check: 'ports',
              required: true,
              status: 'fail',
              detail:
                `cannot listen on ${host.address}: ${bad.join('; ')}` +
                (bad.some((b) => b.includes('EADDRNOTAVAIL'))
                  ? `; ${host.address} is not one of the host's addresses: set host: in the inventory to the address peers dial`
                  : '; stop what holds the port or rerun (ports are picked afresh)'),
            }),
      );
    } catch (e) {
      checks.push(
        row({
          ...base,
          check: 'ports',
          required: true,
          status: 'fail',
          detail: (e as Error).message,
        }),
      );
    }
  }

  checks.push(await clockCheck(host, conn, options.clockWarn_ms ?? 100));
  if (options.kernel.kind === 'ssh') checks.push(await kernelCheckOverSsh(host, conn));
  return { checks, nodePath };
}

/** Clock offset of one host (clock-probe.ts); not required, warns beyond `warn_ms`. */
async function clockCheck(
  host: PreflightHost,
  conn: SshConnection,
  warn_ms: number,
): Promise<PreflightCheck> {
  const base = { host: host.name, check: 'clock', required: false } as const;
  const b = await measureClockOffset(conn);
  if (typeof b === 'string') return row({ ...base, status: 'warn', detail: b });
  const text = `${b.offset_ms >= 0 ? '+' : ''}${b.offset_ms.toFixed(1)} ms ± ${b.uncertainty_ms.toFixed(1)} ms`;
  const off = Math.abs(b.offset_ms) - b.uncertainty_ms > warn_ms;
  return row({
    ...base,
    status: off ? 'warn' : 'pass',
    detail: off
      ? `${text}: more than ${warn_ms} ms off this machine; timelines of agents' events shift by it (run NTP/chrony on the hosts)`
      : text,
    value_ms: b.offset_ms,
    uncertainty_ms: b.uncertainty_ms,
  });
}

async function kernelCheckOverSsh(
  host: PreflightHost,
  conn: SshConnection,
): Promise<PreflightCheck> {
  const base = { host: host.name, check: 'kernel-faults', required: false } as const;
  try {
    const r = await exec(conn, KERNEL_PROBE_COMMAND);
    const k = parseKernelProbe(r.stdout);
    if (k === null)
      return row({
        ...base,
        status: 'warn',
        detail: `probe printed "${r.stdout.trim().slice(0, 80)}"`,
      });
    const usable = k.root && k.nft !== null;
    return row({
      ...base,
      status: usable ? 'pass' : 'warn',
      detail:
        `nft ${k.nft === null ? 'missing' : 'yes'}, root ${k.root ? 'yes' : 'no'}, tc ${k.tc === null ? 'missing' : 'yes'}, netem ${k.netem ? 'yes' : 'no'}` +
        "; the SSH testbed applies network faults with the agents' link filter",
    });
  } catch (e) {
    return row({ ...base, status: 'warn', detail: (e as Error).message });
  }
}

/** netns: the rules go into this machine's root namespace; netem as `up` detected it. */
function kernelCheckNetns(netem: NetemStatus): PreflightCheck {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('not root');
  for (const tool of ['nft', 'tc']) {
    try {
      findTool(tool);
    } catch {
      problems.push(`${tool} missing`);
    }
  }
  const netemText = netem.available ? 'netem yes' : `netem no (${netem.reason})`;
  return row({
    host: null,
    check: 'kernel-faults',
    required: true,
    status: problems.length === 0 ? 'pass' : 'fail',
    detail:
      problems.length === 0
        ? `nftables and tc in the root namespace; ${netemText}`
        : `${problems.join(', ')}: partitions cannot become kernel rules; install nftables and iproute2 and run as root`,
  });
}

async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/**
 * Bandwidth from one host to another, advisory: pairs are probed a few at a time, so on hosts
 * that share a machine (netns) or a link the figure is a lower bound.
 */
async function bandwidthCheck(
  from: ProbeHost,
  to: ProbeHost,
  server: EchoServer,
): Promise<PreflightCheck> {
  const base = { host: from.name, peer: to.name, check: 'bandwidth', required: false } as const;
  const b = await measureBandwidth(
    from,
    to,
    server,
    BANDWIDTH_PROBE_MS,
    BANDWIDTH_CAP_BYTES,
    RTT_TIMEOUT_MS,
  );
  if (typeof b === 'string') {
    return row({
      ...base,
      status: 'warn',
      detail: `could not measure the bandwidth to ${to.address}: ${b}`,
    });
  }
  return row({
    ...base,
    status: 'pass',
    detail: `${formatMbps(b.mbps)} (${(b.bytes / 1e6).toFixed(1)} MB in ${b.ms.toFixed(0)} ms over TCP)`,
    value_mbps: b.mbps,
  });
}

/** Pairwise RTTs (and bandwidths) between hosts with a working node (each pair once). */
async function rttChecks(
  hosts: readonly ProbeHost[],
  options: PreflightOptions,
): Promise<PreflightCheck[]> {
  const checks: PreflightCheck[] = [];
  if (hosts.length < 2) return checks;
  const servers = new Map<string, EchoServer | string>();
  await Promise.all(
    hosts.map(async (h) => {
      try {
        servers.set(h.name, await startEchoServer(h));
      } catch (e) {
        servers.set(h.name, (e as Error).message);
      }
    }),
  );
  try {
    const pairs: [ProbeHost, ProbeHost][] = [];
    hosts.forEach((a, i) => hosts.slice(i + 1).forEach((b) => pairs.push([a, b])));
    const reachable: [ProbeHost, ProbeHost][] = [];
    await pool(pairs, options.concurrency ?? 4, async ([from, to]) => {
      const base = { host: from.name, peer: to.name, check: 'rtt', required: true } as const;
      const server = servers.get(to.name);
      if (server === undefined || typeof server === 'string') {
        checks.push(row({ ...base, status: 'fail', detail: server ?? 'no echo server' }));
        return;
      }
      const m = await measureRtt(from, to, server, options.rttSamples ?? 20, RTT_TIMEOUT_MS);
      if (typeof m !== 'string') reachable.push([from, to]);
      checks.push(
        typeof m === 'string'
          ? row({
              ...base,
              status: 'fail',
              detail: `${from.name} cannot reach ${to.address}:${server.port} on ${to.name} over TCP (${m}); agents there could not talk: check routes and firewalls between them`,
            })
          : row({
              ...base,
              status: 'pass',
              detail: `median ${m.median_ms.toFixed(2)} ms (min ${m.min_ms.toFixed(2)}, max ${m.max_ms.toFixed(2)}, ${m.samples} round trips)`,
              value_ms: m.median_ms,
            }),
      );
    });
    // Bandwidth after every RTT, one pair at a time: a flood must not slow another pair's
    // round trips (a required check), nor share a link or a CPU with another flood.
    const probed =
      reachable.length <= MAX_BANDWIDTH_PAIRS ? reachable : ringPairs(reachable, hosts);
    for (const [from, to] of probed) {
      const server = servers.get(to.name);
      if (server !== undefined && typeof server !== 'string') {
        checks.push(await bandwidthCheck(from, to, server));
      }
    }
  } finally {
    for (const s of servers.values()) if (typeof s !== 'string') s.close();
  }
  const order = new Map(hosts.map((h, i) => [h.name, i]));
  return checks.sort(
    (a, b) =>
      (order.get(a.host ?? '') ?? 0) - (order.get(b.host ?? '') ?? 0) ||
      (order.get(a.peer ?? '') ?? 0) - (order.get(b.peer ?? '') ?? 0),
  );
}

/** Every check on every host, then RTTs between every pair; never throws for a host's fault. */
export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const perHost = await Promise.all(
    options.hosts.map(async (h) => {
      if (h.connection === null) {
        return {
          h,
          nodePath: null,
          checks: [
            row({
              host: h.name,
              check: 'reachable',
              required: true,
              status: 'fail',
              detail: h.unreachable ?? 'not connected',
            }),
          ],
        };
      }
      const r = await hostChecks(h, h.connection, options);
      return {
        h,
        nodePath: r.nodePath,
        checks: [
          row({
            host: h.name,
            check: 'reachable',
            required: true,
            status: 'pass',
            detail: `over SSH at ${h.address}`,
          }),
          ...r.checks,
        ],
      };
    }),
  );
  const probeHosts = perHost.flatMap(({ h, nodePath }) =>
    h.connection !== null && nodePath !== null
      ? [{ name: h.name, address: h.address, nodePath, connection: h.connection }]
      : [],
  );
  const checks = [
    ...perHost.flatMap((p) => p.checks),
    ...(await rttChecks(probeHosts, options)),
    ...(options.kernel.kind === 'netns' ? [kernelCheckNetns(options.kernel.netem)] : []),
  ];
  return {
    testbed: options.testbed,
    startedAt,
    duration_ms: performance.now() - t0,
    ok: !checks.some((c) => c.required && c.status === 'fail'),
    hosts: options.hosts.map((h) => ({ name: h.name, address: h.address })),
    checks,
    unknownHostKeys: [...(options.unknownHostKeys ?? [])],
  };
}
