import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src-node-agent/sim/prng';
import { encodeFrame, FrameDecoder, FrameError } from '../../../src-node-agent/runtime/framing';

const SEED = Number(process.env.FAULTLAB_SEED ?? 7);

function randomValue(prng: Prng, depth = 0): unknown {
  switch (prng.int(depth > 2 ? 4 : 6)) {
    case 0:
      return prng.int(1_000_000) - 500_000;
    case 1:
      return 'ü€😀 text '.repeat(prng.int(20));
    case 2:
      return prng.chance(0.5);
    case 3:
      return null;
    case 4:
      return Array.from({ length: prng.int(5) }, () => randomValue(prng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = prng.int(5); i > 0; i--) o[`k${prng.int(100)}`] = randomValue(prng, depth + 1);
      return o;
    }
  }
}

describe('length-prefixed JSON framing', () => {
  it(`decodes a frame stream identically however it is split (seed ${SEED})`, () => {
    const prng = new Prng(SEED);
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 1 + prng.int(30) }, () => randomValue(prng));
      const stream = Buffer.concat(values.map((v) => encodeFrame(v)));
      const decoder = new FrameDecoder();
      const decoded: unknown[] = [];
      let offset = 0;
      while (offset < stream.length) {
        // Splits of 1 byte (inside the length prefix, inside a multi-byte character) included.
        const size = prng.chance(0.3) ? 1 : 1 + prng.int(64);
        decoded.push(...decoder.push(stream.subarray(offset, offset + size)));
        offset += size;
      }
      expect(decoded, `seed ${SEED} round ${round}`).toEqual(values);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it('refuses a frame longer than the limit as soon as its length is known', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    expect(() => decoder.push(header)).toThrow(FrameError);
    expect(() => new FrameDecoder(1024).push(encodeFrame('x'.repeat(2000)))).toThrow(
      /exceeds the 1024-byte limit/,
    );
  });

  it('refuses garbage that is not JSON', () => {
    const body = Buffer.from('{not json', 'utf8');
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32BE(body.length, 0);
    body.copy(frame, 4);
    expect(() => new FrameDecoder().push(frame)).toThrow(FrameError);
    // Random bytes behind a NUL: always a FrameError, never a crash or a silent success.
    const prng = new Prng(SEED);
    for (let i = 0; i < 100; i++) {
      const junk = Buffer.from(Array.from({ length: 64 }, () => prng.int(256)));
      junk.writeUInt32BE(1 + prng.int(60), 0);
      junk[4] = 0; // a NUL first byte: never valid JSON, whatever follows
      let threw = false;
      try {
        new FrameDecoder().push(junk);
      } catch (err) {
        threw = err instanceof FrameError;
      }
      expect(threw, `junk ${junk.toString('hex')}`).toBe(true);
    }
  });
});
