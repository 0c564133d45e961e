import type { NodeId } from '../../core/ids';
import { hmacSha256, toHex, utf8, type Hmac } from './hmac-sha256';
import type { PbftBody } from './messages';

/** Hex characters of each MAC kept: 128 bits, as RFC 4231 test case 5 truncates. */
const MAC_HEX = 32;

/** JSON with object keys sorted, so a MAC does not depend on the order a parser built keys in. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * MAC authenticators (Castro and Liskov, section 4.1 of the OSDI paper): one MAC per receiver,
 * each under the key shared by the sender and that receiver. Keys are derived per unordered
 * pair of replicas from the run's secret: HMAC(secret, "pbft-key|a|b").
 */
export class Authenticator {
  private readonly keys = new Map<NodeId, Uint8Array>();

  constructor(
    private readonly self: NodeId,
    private readonly servers: readonly NodeId[],
    secret: string,
    private readonly hmac: Hmac = hmacSha256,
  ) {
    for (const peer of servers) {
      if (peer === self) continue;
      const [a, b] = self < peer ? [self, peer] : [peer, self];
      this.keys.set(peer, hmac(utf8(secret), utf8(`pbft-key|${a}|${b}`)));
    }
  }

  private mac(peer: NodeId, sender: NodeId, receiver: NodeId, body: string): string {
    const key = this.keys.get(peer);
    if (key === undefined) throw new Error(`${this.self} shares no MAC key with ${peer}`);
    return toHex(this.hmac(key, utf8(`${sender}>${receiver}|${body}`))).slice(0, MAC_HEX);
  }

  /** The authenticator vector for a message this replica sends. */
  sign(body: PbftBody): string[] {
    const text = canonicalJson(body);
    return this.servers.map((to) => (to === this.self ? '' : this.mac(to, this.self, to, text)));
  }

  /** Whether `auth` holds a valid MAC for this replica from `from`. */
  verify(from: NodeId, body: PbftBody, auth: readonly string[]): boolean {
    const index = this.servers.indexOf(this.self);
    if (!this.keys.has(from) || auth.length !== this.servers.length) return false;
    return auth[index] === this.mac(from, from, this.self, canonicalJson(body));
  }
}
