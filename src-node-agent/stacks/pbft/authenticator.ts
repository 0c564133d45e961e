import type { NodeId } from '../../core/ids';
import { hmacSha256, toHex, utf8, type Hmac } from './hmac-sha256';
import type { PbftBody } from './messages';

/** Hex characters of each MAC kept: 128 bits, as RFC 4231 test case 5 truncates. */
const MAC_HEX = 32;

/**
 * Canonical texts of objects that are encoded again and again (a batch is hashed for its
 * digest, then MACed inside its PRE-PREPARE, by the primary and by every backup). Only
 * `rememberCanonical` fills it, and only with protocol values nobody mutates.
 */
const remembered = new WeakMap<object, string>();

/** canonicalJson(value), kept for the life of `value` (which must never be mutated). */
export function rememberCanonical(value: object): string {
  let text = remembered.get(value);
  if (text === undefined) {
    text = encode(value);
    remembered.set(value, text);
  }
  return text;
}

/** JSON with object keys sorted, so a MAC does not depend on the order a parser built keys in. */
export function canonicalJson(value: unknown): string {
  return encode(value);
}

// Hand-rolled rather than map/filter/join: every MAC and digest runs it, so its allocations
// showed up in profiles of the agent. The output is the same byte for byte.
function encode(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const known = remembered.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += encode(value[i]);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + encode(v);
  }
  return out + '}';
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
    return toHex(this.hmac(key, `${sender}>${receiver}|${body}`), MAC_HEX / 2);
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
