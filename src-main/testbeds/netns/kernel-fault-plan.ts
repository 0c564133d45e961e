import type { Fault, LinkProfile } from '../../../src-node-agent/core/faults';
import type { NodeId } from '../../../src-node-agent/core/ids';
import { NODE_IFNAME } from './netns-names';

/**
 * Translation of the fault vocabulary (src-node-agent/core/faults.ts) into kernel rules:
 * pure functions, no I/O, so every rule text is unit-tested. kernel-faults.ts applies them.
 *
 * Where the drop rules go, and why: one nftables table of family `bridge` in the ROOT
 * namespace, base chains on the bridge `forward` hook. Node-to-node packets cross the bridge
 * and pass that hook; packets between the orchestrator (the bridge address, 10.77.k.1) and a
 * node are delivered to / sent from the bridge itself and never take the forward path. So the
 * SSH/control path cannot be cut by construction, and the rules match node IP pairs only (with
 * tcp port 22 accepted first as a second guard). One `nft -f` in one namespace changes every
 * node at once, atomically, in one process — per-namespace tables would need one `ip netns
 * exec nft` per node (N processes, not atomic across nodes). The bridge family sees bridged
 * frames natively; it does not depend on br_netfilter or its sysctls.
 *
 * A fault is one base chain of its own (`f<n>`): healing a fault puts a `return` at the head
 * of its chain (in a base chain, the chain's accept policy), leaving every other fault's rules
 * in force. A drop in any base chain is final, so faults compose. Healed chains are deleted
 * later, when no fault is being changed: any deletion makes the kernel wait out an RCU grace
 * period before the batch returns (15-25 ms here; ~100 ms for four base chains), while an
 * insert takes effect at once (~6 ms with the `nft` start).
 *
 * A one-way cut a→b drops a's packets to b at the IP level, as a broken link would. TCP needs
 * both directions, so b cannot open a TCP connection to a either (a's SYN-ACK travels a→b);
 * the cut is one-way for datagrams, and for TCP it shows as "b's SYN reaches a, a's answer is
 * lost". The agent link filter, which cuts messages rather than packets, is the layer for a
 * message-level one-way cut.
 */

export interface NodeAddress {
  readonly ip: string;
  readonly namespace: string;
}

/** A degrade profile as the kernel can realize it: the shared profile plus a rate limit. */
export interface KernelLinkProfile extends LinkProfile {
  /** Bandwidth cap of the directed link (tc tbf, or netem's own rate). */
  readonly rate_kbit?: number;
}

export type KernelFault =
  | Exclude<Fault, { type: 'degrade' }>
  | {
      readonly type: 'degrade';
      readonly links?: readonly (readonly [NodeId, NodeId])[];
      readonly profile: KernelLinkProfile;
    };

/** Directed IP pairs whose packets a partition or cut drops. */
export function dropPairs(
  fault: Extract<KernelFault, { type: 'partition' | 'cut' }>,
  nodes: ReadonlyMap<NodeId, NodeAddress>,
): [string, string][] {
  const ipOf = (id: NodeId): string => {
    const a = nodes.get(id);
    if (a === undefined) {
      throw new Error(
        `kernel faults: node "${id}" is not in this netns testbed (nodes: ${[...nodes.keys()].join(', ')}); ` +
          "check the fault against the lab's node names",
      );
    }
    return a.ip;
  };
  if (fault.type === 'cut') return [[ipOf(fault.from), ipOf(fault.to)]];
  for (const g of fault.groups) for (const id of g) ipOf(id);
  const pairs: [string, string][] = [];
  // The agent link filter's rule (orchestrator/link-rules-for-fault.ts): a and b talk iff
  // some group holds both.
  for (const a of nodes.keys()) {
    for (const b of nodes.keys()) {
      if (a !== b && !fault.groups.some((g) => g.includes(a) && g.includes(b))) {
        pairs.push([ipOf(a), ipOf(b)]);
      }
    }
  }
  return pairs;
}

export interface NftTableRef {
  readonly family: string;
  readonly name: string;
}

/** The whole batch for one fault, applied by one `nft -f -` (all or nothing). */
export function nftFaultScript(
  table: NftTableRef,
  chain: string,
  pairs: readonly (readonly [string, string])[],
): string {
  const t = `${table.family} ${table.name}`;
  const lines = [
    `add table ${t}`,
    `add chain ${t} ${chain} { type filter hook forward priority 0; policy accept; }`,
    // Only node-to-node traffic reaches this hook; the SSH exemption is a second guard.
    `add rule ${t} ${chain} tcp dport 22 accept`,
    `add rule ${t} ${chain} tcp sport 22 accept`,
  ];
  if (pairs.length > 0) {
    const set = pairs.map(([s, d]) => `${s} . ${d}`).join(', ');
    lines.push(`add rule ${t} ${chain} ip saddr . ip daddr { ${set} } drop`);
  }
  return `${lines.join('\n')}\n`;
}

/** Heal fault chains in one atomic batch: nothing after the `return` matches any more. */
export function nftNeutralizeScript(table: NftTableRef, chains: readonly string[]): string {
  return (
    chains.map((c) => `insert rule ${table.family} ${table.name} ${c} return`).join('\n') + '\n'
  );
}

/** Delete fault chains (their rules go with them) in one atomic batch. */
export function nftHealScript(table: NftTableRef, chains: readonly string[]): string {
  return chains.map((c) => `delete chain ${table.family} ${table.name} ${c}`).join('\n') + '\n';
}

/** What a degrade needs on one sending node. */
export interface ShapePlan {
  readonly from: NodeId;
  readonly namespace: string;
  readonly destinations: readonly string[];
  /** The leaf qdisc after its kind: ['tbf', 'rate', …] or ['netem', 'delay', …]. */
  readonly leaf: readonly string[];
}

export interface DegradePlan {
  readonly shapes: readonly ShapePlan[];
  /** The part of the profile the kernel cannot do here, for the agent link filter. */
  readonly fallback: { readonly profile: LinkProfile; readonly reason: string } | null;
}

const pct = (p: number): string => `${(p * 100).toFixed(4).replace(/\.?0+$/, '')}%`;

/** Minimum hold-back that makes netem reorder observable (as the agent's MIN_REORDER_WINDOW_MS). */
const MIN_REORDER_DELAY_MS = 5;

export function netemArgs(profile: KernelLinkProfile): string[] {
  const args = ['netem'];
  const delay =
    profile.delay_ms ?? (profile.reorder !== undefined ? MIN_REORDER_DELAY_MS : undefined);
  if (delay !== undefined) {
    args.push('delay', `${delay}ms`);
    if (profile.jitter_ms !== undefined) args.push(`${profile.jitter_ms}ms`);
  }
  if (profile.loss !== undefined) args.push('loss', pct(profile.loss));
  if (profile.duplicate !== undefined) args.push('duplicate', pct(profile.duplicate));
  if (profile.reorder !== undefined) args.push('reorder', pct(profile.reorder));
  if (profile.rate_kbit !== undefined) args.push('rate', `${profile.rate_kbit}kbit`);
  return args;
}

export function tbfArgs(rate_kbit: number): string[] {
  // Burst: 10 ms worth of the rate, at least two full-size frames (tbf refuses a burst below
  // one MTU). Latency bounds the queue: packets waiting longer are dropped, as on a slow link.
  const burst_bytes = Math.max(2 * 1514, Math.ceil((rate_kbit * 1000) / 8 / 100));
  return ['tbf', 'rate', `${rate_kbit}kbit`, 'burst', `${burst_bytes}`, 'latency', '100ms'];
}

function netemPart(p: KernelLinkProfile): LinkProfile | null {
  const out: { -readonly [K in keyof LinkProfile]: LinkProfile[K] } = {};
  if (p.delay_ms !== undefined) out.delay_ms = p.delay_ms;
  if (p.jitter_ms !== undefined) out.jitter_ms = p.jitter_ms;
  if (p.loss !== undefined) out.loss = p.loss;
  if (p.duplicate !== undefined) out.duplicate = p.duplicate;
  if (p.reorder !== undefined) out.reorder = p.reorder;
  return Object.keys(out).length === 0 ? null : out;
}

/**
 * A degrade as tc work per sending node: a rate maps to tbf; delay/jitter/loss/duplication/
 * reordering map to netem when the kernel has it, and otherwise come back as the agent
 * fallback (the caller applies them through the agent link filter and says so in the log).
 */
export function degradePlan(
  fault: Extract<KernelFault, { type: 'degrade' }>,
  nodes: ReadonlyMap<NodeId, NodeAddress>,
  netem: { available: boolean; reason?: string },
): DegradePlan {
  const rate = fault.profile.rate_kbit;
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) {
    throw new Error(`kernel faults: rate_kbit must be a positive number, got ${rate}`);
  }
  const rest = netemPart(fault.profile);
  const useNetem = rest !== null && netem.available;
  const leaf = useNetem ? netemArgs(fault.profile) : rate !== undefined ? tbfArgs(rate) : null;
  const fallback =
    rest !== null && !netem.available
      ? { profile: rest, reason: netem.reason ?? 'tc netem is not available in this kernel' }
      : null;
  if (leaf === null) return { shapes: [], fallback };
  const ids = [...nodes.keys()];
  const links =
    fault.links ?? ids.flatMap((a) => ids.filter((b) => b !== a).map((b) => [a, b] as const));
  const byFrom = new Map<NodeId, string[]>();
  for (const [from, to] of links) {
    const dst = nodes.get(to);
    if (!nodes.has(from) || dst === undefined) {
      throw new Error(
        `kernel faults: link ${from}->${to} names a node that is not in this netns testbed ` +
          `(nodes: ${ids.join(', ')})`,
      );
    }
    const list = byFrom.get(from) ?? [];
    if (!list.includes(dst.ip)) list.push(dst.ip);
    byFrom.set(from, list);
  }
  const shapes = [...byFrom].map(([from, destinations]) => ({
    from,
    namespace: (nodes.get(from) as NodeAddress).namespace,
    destinations,
    leaf,
  }));
  return { shapes, fallback };
}

/** Our root qdisc handle on a node's interface ("fa" for FaultLab); class 1 = unshaped. */
export const ROOT_HANDLE = 'fa00';

/** `tc -batch` lines installing our root HTB on a node (unshaped default class). */
export function tcRootLines(): string[] {
  return [
    `qdisc replace dev ${NODE_IFNAME} root handle ${ROOT_HANDLE}: htb default 1`,
    // 10 Gbit/s with a large quantum: effectively unshaped, so the control path and every
    // link without a fault are not slowed by our root qdisc.
    `class add dev ${NODE_IFNAME} parent ${ROOT_HANDLE}: classid ${ROOT_HANDLE}:1 htb rate 10gbit quantum 200000`,
  ];
}

/** Removing our root qdisc removes every class, leaf and filter of ours under it. */
export function tcRootRemoveLines(): string[] {
  return [`qdisc del dev ${NODE_IFNAME} root handle ${ROOT_HANDLE}:`];
}

/** Lines adding one fault's class (minor `m`), its leaf qdisc and destination filters. */
export function tcShapeLines(m: number, shape: ShapePlan): string[] {
  const minor = m.toString(16);
  const leafHandle = (0x100 + m).toString(16);
  return [
    `class add dev ${NODE_IFNAME} parent ${ROOT_HANDLE}: classid ${ROOT_HANDLE}:${minor} htb rate 10gbit quantum 200000`,
    `qdisc add dev ${NODE_IFNAME} parent ${ROOT_HANDLE}:${minor} handle ${leafHandle}: ${shape.leaf.join(' ')}`,
    // The filter priority is the fault's own number, so healing deletes exactly its filters.
    ...shape.destinations.map(
      (ip) =>
        `filter add dev ${NODE_IFNAME} parent ${ROOT_HANDLE}: protocol ip prio ${m} u32 match ip dst ${ip}/32 flowid ${ROOT_HANDLE}:${minor}`,
    ),
  ];
}

export function tcUnshapeLines(m: number): string[] {
  return [
    `filter del dev ${NODE_IFNAME} parent ${ROOT_HANDLE}: protocol ip prio ${m}`,
    `class del dev ${NODE_IFNAME} classid ${ROOT_HANDLE}:${m.toString(16)}`,
  ];
}
