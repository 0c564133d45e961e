import { createHash, createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
} from '../../../../src-node-agent/stacks/pbft/ed25519';
import { fromHex, toHex, utf8 } from '../../../../src-node-agent/stacks/pbft/hmac-sha256';
import { sha512 } from '../../../../src-node-agent/stacks/pbft/sha512';
import { testSeed } from './pbft-sim';

describe('SHA-512 (FIPS 180-4 examples)', () => {
  it('hashes "abc" and the two-block message, and agrees with node:crypto at block edges', () => {
    expect(toHex(sha512(utf8('abc')))).toBe(
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a' +
        '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
    const twoBlock =
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq' +
      'klmnopqrlmnopqrsmnopqrstnopqrstu';
    expect(toHex(sha512(utf8(twoBlock)))).toBe(
      '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018' +
        '501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909',
    );
    for (const length of [0, 111, 112, 127, 128, 129, 255, 256, 1_000]) {
      const data = new Uint8Array(length).map((_, i) => (i * 31 + 7) & 0xff);
      expect(toHex(sha512(data)), `length ${length}`).toBe(
        createHash('sha512').update(data).digest('hex'),
      );
    }
  });
});

describe('Ed25519 (RFC 8032, section 7.1)', () => {
  const vectors = [
    {
      name: 'test 1 (empty message)',
      secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      message: '',
      signature:
        'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      name: 'test 2 (one byte)',
      secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      message: '72',
      signature:
        '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
    {
      name: 'test 3 (two bytes)',
      secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      message: 'af82',
      signature:
        '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    },
  ];
  for (const v of vectors) {
    it(`${v.name}: public key, signature, and verification`, () => {
      const seed = fromHex(v.secret);
      const message = fromHex(v.message);
      expect(toHex(ed25519PublicKey(seed))).toBe(v.public);
      expect(toHex(ed25519Sign(seed, message))).toBe(v.signature);
      expect(ed25519Verify(fromHex(v.public), message, fromHex(v.signature))).toBe(true);
    });
  }

  it('rejects a signature over another message, a flipped bit, and a non-canonical S', () => {
    const v = vectors[1] as (typeof vectors)[number];
    const key = fromHex(v.public);
    const sig = fromHex(v.signature);
    expect(ed25519Verify(key, fromHex('73'), sig)).toBe(false);
    for (const byte of [0, 31, 32, 63]) {
      const bad = sig.slice();
      bad[byte] = (bad[byte] as number) ^ 1;
      expect(ed25519Verify(key, fromHex(v.message), bad), `bit flipped in byte ${byte}`).toBe(
        false,
      );
    }
    const highS = sig.slice();
    highS[63] = 0xff; // S >= L: malleable, must be refused
    expect(ed25519Verify(key, fromHex(v.message), highS)).toBe(false);
    expect(ed25519Verify(key, fromHex(v.message), sig.slice(0, 63))).toBe(false);
  });

  it('signs exactly as node:crypto does for seeded random keys and messages', () => {
    const seed = testSeed(8032, 'ed25519 vs node:crypto');
    let state = seed;
    const byte = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state & 0xff;
    };
    // PKCS#8 DER prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed.
    const pkcs8Prefix = fromHex('302e020100300506032b657004220420');
    for (let i = 0; i < 8; i++) {
      const secret = new Uint8Array(32).map(byte);
      const message = new Uint8Array(i * 37).map(byte);
      const key = createPrivateKey({
        key: Buffer.concat([pkcs8Prefix, secret]),
        format: 'der',
        type: 'pkcs8',
      });
      expect(toHex(ed25519Sign(secret, message))).toBe(sign(null, message, key).toString('hex'));
    }
  });
});
