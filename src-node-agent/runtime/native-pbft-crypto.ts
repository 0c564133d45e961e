import { createHmac, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { Hmac } from '../stacks/pbft/hmac-sha256';
import type { SignatureScheme } from '../stacks/pbft/auth-scheme';

/**
 * PBFT's cryptography over node:crypto for the agent: the same HMAC-SHA256 and RFC 8032
 * Ed25519 as the stack's pure TypeScript (which keeps the simulator deterministic and free of
 * Node), at native speed. Tests check both give identical MACs and signatures.
 */
export const nativeHmac: Hmac = (key, message) => {
  // A string is hashed as UTF-8 without an intermediate copy; the digest is viewed, not copied.
  const digest = createHmac('sha256', key).update(message).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
};

/** DER prefixes that wrap a raw 32-byte Ed25519 seed (PKCS#8) and public key (SPKI). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const nativeEd25519: SignatureScheme = {
  signer(seed) {
    const key = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return {
      publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)),
      sign: (message) => new Uint8Array(sign(null, message, key)),
    };
  },
  verifier(publicKey) {
    let key;
    try {
      key = createPublicKey({
        key: Buffer.concat([SPKI_PREFIX, publicKey]),
        format: 'der',
        type: 'spki',
      });
    } catch {
      return null;
    }
    return (message, signature) => {
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    };
  },
};
