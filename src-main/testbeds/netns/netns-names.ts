import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * Every kernel object and file a netns testbed creates carries a FaultLab prefix and the
 * testbed's id, so a later run can tell ours from anyone else's and one testbed from another,
 * and clean up a crashed run by name without touching anything it did not create.
 *
 *   namespace   fl-<id>-n<i>       (namespace names are paths, not limited to 15 chars)
 *   bridge      flbr-<id>          (11 chars at most)
 *   veth        flv-<id>-<i>       (the root-namespace end; 14 chars at most; IFNAMSIZ is 16
 *                                   with the NUL, so an interface name is at most 15 chars)
 *   veth (ns)   eth0               (inside the node's namespace, where names are private)
 *   nft table   bridge faultlab_<id>
 *   state file  <runtimeDir>/netns-<id>.json, files in <runtimeDir>/netns-<id>/
 */

export const MAX_ID_LENGTH = 6;
/** Node IPs are 10+i in a /24 and must stay below the broadcast address .255. */
export const MAX_NODES = 200;
export const NODE_IFNAME = 'eth0';
export const DEFAULT_RUNTIME_DIR = '/run/faultlab';
/** The nftables family of our fault table: see kernel-faults.ts for why `bridge`. */
export const NFT_FAMILY = 'bridge';

const ID_RE = /^[a-z0-9]{1,6}$/;
const NAMESPACE_RE = /^fl-([a-z0-9]{1,6})-n([0-9]{1,3})$/;
const BRIDGE_RE = /^flbr-([a-z0-9]{1,6})$/;
const VETH_RE = /^flv-([a-z0-9]{1,6})-([0-9]{1,3})$/;
const TABLE_RE = /^faultlab_([a-z0-9]{1,6})$/;
const STATE_FILE_RE = /^netns-([a-z0-9]{1,6})\.json$/;

export function assertTestbedId(id: string): void {
  if (!ID_RE.test(id)) {
    throw new Error(
      `netns testbed: id "${id}" is invalid; use 1–${MAX_ID_LENGTH} lowercase letters or digits ` +
        '(it becomes part of interface names, which the kernel limits to 15 characters)',
    );
  }
}

/** A fresh random id (6 base-36 chars: collisions are unlikely and checked anyway). */
export function newTestbedId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(MAX_ID_LENGTH), (b) => alphabet[b % alphabet.length]).join('');
}

export function nodeName(index: number): string {
  return `n${index}`;
}

export function namespaceName(id: string, index: number): string {
  return `fl-${id}-n${index}`;
}

export function bridgeName(id: string): string {
  return `flbr-${id}`;
}

export function vethName(id: string, index: number): string {
  return `flv-${id}-${index}`;
}

export function nftTableName(id: string): string {
  return `faultlab_${id}`;
}

export function stateFilePath(runtimeDir: string, id: string): string {
  return join(runtimeDir, `netns-${id}.json`);
}

/** Keys, sshd configs and logs of one testbed. */
export function testbedFilesDir(runtimeDir: string, id: string): string {
  return join(runtimeDir, `netns-${id}`);
}

export function runtimeDirFromEnv(): string {
  const dir = process.env['FAULTLAB_RUNTIME_DIR'];
  return dir !== undefined && dir !== '' ? dir : DEFAULT_RUNTIME_DIR;
}

/** The testbed id a kernel object name belongs to, or null when the name is not ours. */
export function ownerIdOf(
  kind: 'namespace' | 'link' | 'nft-table' | 'state-file',
  name: string,
): string | null {
  const patterns =
    kind === 'namespace'
      ? [NAMESPACE_RE]
      : kind === 'link'
        ? [BRIDGE_RE, VETH_RE]
        : kind === 'nft-table'
          ? [TABLE_RE]
          : [STATE_FILE_RE];
  for (const re of patterns) {
    const m = re.exec(name);
    if (m !== null) return m[1] ?? null;
  }
  return null;
}

/** A testbed's /24: the bridge is .1, node i (1-based) is .(10+i). */
export interface Subnet {
  /** The first three octets, e.g. "10.77.5". */
  readonly prefix: string;
}

export function parseSubnet(text: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(text.trim());
  const octets = m === null ? [] : [m[1], m[2], m[3]].map(Number);
  if (m === null || octets.some((o) => o > 255)) {
    throw new Error(
      `netns testbed: subnet "${text}" is not a /24 like 10.77.5.0/24; the testbed puts its ` +
        'bridge at .1 and node i at .(10+i)',
    );
  }
  return { prefix: octets.join('.') };
}

export function subnetText(subnet: Subnet): string {
  return `${subnet.prefix}.0/24`;
}

export function bridgeIp(subnet: Subnet): string {
  return `${subnet.prefix}.1`;
}

export function nodeIp(subnet: Subnet, index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
    throw new Error(`netns testbed: node index ${index} is outside 1..${MAX_NODES}`);
  }
  return `${subnet.prefix}.${10 + index}`;
}
