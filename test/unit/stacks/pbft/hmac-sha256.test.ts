import { describe, expect, it } from 'vitest';
import {
  fromHex,
  hmacSha256,
  sha256,
  toHex,
  utf8,
} from '../../../../src-node-agent/stacks/pbft/hmac-sha256';

describe('SHA-256 (FIPS 180-4 examples)', () => {
  it('hashes the empty string, "abc" and the two-block message', () => {
    expect(toHex(sha256(utf8('')))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(toHex(sha256(utf8('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(toHex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(toHex(sha256(new Uint8Array(1_000_000).fill(0x61)))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });
});

describe('HMAC-SHA256 (RFC 4231 test cases)', () => {
  const cases: { name: string; key: string; data: string; mac: string; truncate?: number }[] = [
    {
      name: 'test case 1',
      key: '0b'.repeat(20),
      data: toHex(utf8('Hi There')),
      mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    },
    {
      name: 'test case 2',
      key: toHex(utf8('Jefe')),
      data: toHex(utf8('what do ya want for nothing?')),
      mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    },
    {
      name: 'test case 3',
      key: 'aa'.repeat(20),
      data: 'dd'.repeat(50),
      mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    },
    {
      name: 'test case 4',
      key: '0102030405060708090a0b0c0d0e0f10111213141516171819',
      data: 'cd'.repeat(50),
      mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    },
    {
      name: 'test case 5 (truncated to 128 bits)',
      key: '0c'.repeat(20),
      data: toHex(utf8('Test With Truncation')),
      mac: 'a3b6167473100ee06e0c796c2955552b',
      truncate: 16,
    },
    {
      name: 'test case 6 (key longer than the block)',
      key: 'aa'.repeat(131),
      data: toHex(utf8('Test Using Larger Than Block-Size Key - Hash Key First')),
      mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    },
    {
      name: 'test case 7 (long key and long data)',
      key: 'aa'.repeat(131),
      data: toHex(
        utf8(
          'This is a test using a larger than block-size key and a larger than block-size data. ' +
            'The key needs to be hashed before being used by the HMAC algorithm.',
        ),
      ),
      mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const mac = hmacSha256(fromHex(c.key), fromHex(c.data));
      expect(toHex(c.truncate === undefined ? mac : mac.subarray(0, c.truncate))).toBe(c.mac);
    });
  }
});
