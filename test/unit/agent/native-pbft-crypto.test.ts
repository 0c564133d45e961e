import { describe, expect, it } from 'vitest';
import { nativeEd25519, nativeHmac } from '../../../src-node-agent/runtime/native-pbft-crypto';
import { createReplicaAuth, pureEd25519 } from '../../../src-node-agent/stacks/pbft/auth-scheme';
import { pbftConfigSchema } from '../../../src-node-agent/stacks/pbft/config';
import { hmacSha256 } from '../../../src-node-agent/stacks/pbft/hmac-sha256';
import { Prng } from '../../../src-node-agent/sim/prng';

/** The agent's node:crypto PBFT primitives compute exactly the stack's pure functions. */
describe('native PBFT crypto', () => {
  const seed = Number(process.env['SEED'] ?? 7);
  console.log(`native PBFT crypto: seed ${seed} (SEED=... to change)`);
  const prng = new Prng(seed);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => prng.int(256));

  it('HMAC-SHA256 over node:crypto equals the pure TypeScript HMAC for random keys and messages', () => {
    for (let i = 0; i < 200; i++) {
      const key = bytes(prng.int(100));
      const message = bytes(prng.int(300));
      expect(nativeHmac(key, message)).toEqual(hmacSha256(key, message));
    }
  });

  it('a string message is MACed as its UTF-8 bytes, natively and in pure TypeScript', () => {
    const alphabet = ['a', '{', '"', 'é', '→', '😀', ' ', '9'];
    for (let i = 0; i < 100; i++) {
      const key = bytes(1 + prng.int(80));
      const text = Array.from({ length: prng.int(120) }, () => alphabet[prng.int(8)]).join('');
      const expected = hmacSha256(key, new TextEncoder().encode(text));
      expect(hmacSha256(key, text)).toEqual(expected);
      expect(nativeHmac(key, text)).toEqual(expected);
    }
  });

  it('Ed25519 over node:crypto signs as the pure implementation does, and each verifies the other', () => {
    for (let i = 0; i < 5; i++) {
      const s = bytes(32);
      const message = bytes(prng.int(200));
      const native = nativeEd25519.signer(s);
      const pure = pureEd25519.signer(s);
      expect(native.publicKey).toEqual(pure.publicKey);
      const signature = native.sign(message);
      expect(signature).toEqual(pure.sign(message));
      expect(pureEd25519.verifier(native.publicKey)?.(message, signature)).toBe(true);
      expect(nativeEd25519.verifier(pure.publicKey)?.(message, signature)).toBe(true);
      const forged = Uint8Array.from(signature);
      forged[0] = (forged[0] ?? 0) ^ 1;
      expect(nativeEd25519.verifier(pure.publicKey)?.(message, forged)).toBe(false);
    }
  });

  it('replica MAC authenticators built on either agree byte for byte', () => {
    const config = pbftConfigSchema.parse({});
    const servers = ['n1', 'n2', 'n3', 'n4'];
    const body = { t: 'prepare' as const, view: 3, seq: 17, digest: 'abc' };
    const pure = createReplicaAuth('n1', servers, config);
    const native = createReplicaAuth('n1', servers, config, nativeEd25519, nativeHmac);
    expect(native.sign(body)).toEqual(pure.sign(body));
    expect(
      createReplicaAuth('n2', servers, config, nativeEd25519, nativeHmac).verify(
        'n1',
        body,
        pure.sign(body),
      ),
    ).toBe(true);
  });
});
