import type { NodeId } from '../../core/ids';
import { Authenticator, canonicalJson } from './authenticator';
import type { PbftConfig } from './config';
import { ed25519Signer, ed25519Verifier } from './ed25519';
import { fromHex, hmacSha256, toHex, utf8, type Hmac } from './hmac-sha256';
import type { PbftBody } from './messages';

/**
 * How replicas authenticate what they send to each other (params `auth`):
 * - 'mac' (default): MAC authenticators, one HMAC-SHA256 per receiver (paper, section 4.1).
 *   Cheap, but a MAC convinces only its receiver: it is no evidence to a third replica.
 * - 'ed25519': one signature per message, checkable by anyone. Slower, but it makes a
 *   VIEW-CHANGE transferable: a NEW-VIEW can carry it as proof (view-change.ts relies on
 *   `transferable` for that), which the MAC variant of the paper replaces with extra rounds.
 */
export interface ReplicaAuth {
  readonly scheme: PbftConfig['auth'];
  /** Whether a third replica can check what `sign` produced (signatures: yes; MACs: no). */
  readonly transferable: boolean;
  sign(body: PbftBody): readonly string[];
  verify(from: NodeId, body: PbftBody, auth: readonly string[]): boolean;
}

/**
 * Ed25519 as the stack needs it. The default is the pure TypeScript one (ed25519.ts), so a
 * run stays deterministic and I/O-free in every driver; a driver may pass a faster one
 * (e.g. over node:crypto) to PbftReplica, as long as it computes the same RFC 8032 function.
 */
export interface SignatureScheme {
  signer(seed: Uint8Array): {
    readonly publicKey: Uint8Array;
    sign(message: Uint8Array): Uint8Array;
  };
  /** null if `publicKey` is not a valid key. */
  verifier(publicKey: Uint8Array): ((message: Uint8Array, signature: Uint8Array) => boolean) | null;
}

/** Verifiers hold a precomputed table per key: share them between the replicas of a process. */
const MAX_CACHED_VERIFIERS = 256;
const verifierCache = new Map<string, ((m: Uint8Array, s: Uint8Array) => boolean) | null>();

export const pureEd25519: SignatureScheme = {
  signer: ed25519Signer,
  verifier(publicKey) {
    const key = toHex(publicKey);
    let v = verifierCache.get(key);
    if (v === undefined) {
      if (verifierCache.size >= MAX_CACHED_VERIFIERS) verifierCache.clear();
      v = ed25519Verifier(publicKey);
      verifierCache.set(key, v);
    }
    return v;
  },
};

export function createReplicaAuth(
  self: NodeId,
  servers: readonly NodeId[],
  config: PbftConfig,
  signatures: SignatureScheme = pureEd25519,
  hmac: Hmac = hmacSha256,
): ReplicaAuth {
  if (config.auth === 'ed25519') return new SignatureAuth(self, servers, config.secret, signatures);
  return new MacAuth(new Authenticator(self, servers, config.secret, hmac));
}

class MacAuth implements ReplicaAuth {
  readonly scheme = 'mac';
  readonly transferable = false;
  constructor(private readonly authenticator: Authenticator) {}
  sign(body: PbftBody): readonly string[] {
    return this.authenticator.sign(body);
  }
  verify(from: NodeId, body: PbftBody, auth: readonly string[]): boolean {
    return this.authenticator.verify(from, body, auth);
  }
}

/** Hex characters of an Ed25519 signature (64 bytes). */
export const SIGNATURE_HEX = 128;

/**
 * The 32-byte Ed25519 seed of a replica. Derived from the run's secret like the MAC keys, so
 * every replica can also compute every public key without a key-distribution step; the lab's
 * Byzantine behaviours never use another replica's key. A deployment would distribute keys.
 */
export function ed25519Seed(secret: string, node: NodeId): Uint8Array {
  return hmacSha256(utf8(secret), utf8(`pbft-ed25519|${node}`));
}

class SignatureAuth implements ReplicaAuth {
  readonly scheme = 'ed25519';
  readonly transferable = true;
  private readonly signer: { sign(message: Uint8Array): Uint8Array };
  private readonly publicKeys = new Map<NodeId, Uint8Array>();

  constructor(
    self: NodeId,
    servers: readonly NodeId[],
    secret: string,
    private readonly scheme_: SignatureScheme,
  ) {
    this.signer = scheme_.signer(ed25519Seed(secret, self));
    for (const node of servers) {
      this.publicKeys.set(node, scheme_.signer(ed25519Seed(secret, node)).publicKey);
    }
  }

  sign(body: PbftBody): readonly string[] {
    return [toHex(this.signer.sign(utf8(canonicalJson(body))))];
  }

  verify(from: NodeId, body: PbftBody, auth: readonly string[]): boolean {
    const key = this.publicKeys.get(from);
    const sig = auth[0];
    if (key === undefined || auth.length !== 1 || sig === undefined) return false;
    if (sig.length !== SIGNATURE_HEX || !/^[0-9a-f]+$/.test(sig)) return false;
    const verify = this.scheme_.verifier(key);
    return verify !== null && verify(utf8(canonicalJson(body)), fromHex(sig));
  }
}
