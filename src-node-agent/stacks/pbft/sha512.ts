/**
 * SHA-512 (FIPS 180-4) in plain TypeScript, for Ed25519 (RFC 8032) in signature mode: stacks
 * run sans-IO in every driver and in a browser, so they cannot reach `node:crypto`.
 * 64-bit words are pairs of 32-bit halves (hi, lo), which is much faster than BigInt.
 */

/** The first 64 bits of the fractional part of the cube roots (K) and square roots (H0) of
 * the first primes, computed once with exact integer roots rather than typed in by hand. */
function fractionalRootBits(count: number, degree: 2n | 3n): bigint[] {
  const out: bigint[] = [];
  for (let candidate = 2; out.length < count; candidate++) {
    let prime = true;
    for (let d = 2; d * d <= candidate; d++) if (candidate % d === 0) prime = false;
    if (!prime) continue;
    const scaled = BigInt(candidate) << (64n * degree);
    out.push(integerRoot(scaled, degree) & 0xffffffffffffffffn);
  }
  return out;
}

function integerRoot(value: bigint, degree: bigint): bigint {
  // Newton's method from above: x <- ((d-1)x + v / x^(d-1)) / d, until it stops decreasing.
  let x = 1n << (BigInt(value.toString(2).length) / degree + 1n);
  for (;;) {
    const next = ((degree - 1n) * x + value / x ** (degree - 1n)) / degree;
    if (next >= x) return x;
    x = next;
  }
}

function split(words: readonly bigint[]): Int32Array {
  const out = new Int32Array(words.length * 2);
  words.forEach((w, i) => {
    out[2 * i] = Number(w >> 32n) | 0;
    out[2 * i + 1] = Number(w & 0xffffffffn) | 0;
  });
  return out;
}

const K = split(fractionalRootBits(80, 3n));
const H0 = split(fractionalRootBits(8, 2n));
const W = new Int32Array(160);

function compress(h: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 32; i++) {
    const j = offset + i * 4;
    W[i] =
      ((block[j] as number) << 24) |
      ((block[j + 1] as number) << 16) |
      ((block[j + 2] as number) << 8) |
      (block[j + 3] as number);
  }
  for (let i = 16; i < 80; i++) {
    // s0 = rotr1 ^ rotr8 ^ shr7 of W[i-15]; s1 = rotr19 ^ rotr61 ^ shr6 of W[i-2].
    const xh = W[2 * (i - 15)] as number;
    const xl = W[2 * (i - 15) + 1] as number;
    const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
    const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
    const yh = W[2 * (i - 2)] as number;
    const yl = W[2 * (i - 2) + 1] as number;
    const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
    const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
    const l =
      (s0l >>> 0) +
      (s1l >>> 0) +
      ((W[2 * (i - 7) + 1] as number) >>> 0) +
      ((W[2 * (i - 16) + 1] as number) >>> 0);
    const hi =
      s0h +
      s1h +
      (W[2 * (i - 7)] as number) +
      (W[2 * (i - 16)] as number) +
      ((l / 0x100000000) | 0);
    W[2 * i] = hi | 0;
    W[2 * i + 1] = l | 0;
  }
  let ah = h[0] as number,
    al = h[1] as number,
    bh = h[2] as number,
    bl = h[3] as number;
  let ch = h[4] as number,
    cl = h[5] as number,
    dh = h[6] as number,
    dl = h[7] as number;
  let eh = h[8] as number,
    el = h[9] as number,
    fh = h[10] as number,
    fl = h[11] as number;
  let gh = h[12] as number,
    gl = h[13] as number,
    hh = h[14] as number,
    hl = h[15] as number;
  for (let i = 0; i < 80; i++) {
    // S1 = rotr14 ^ rotr18 ^ rotr41 of e; S0 = rotr28 ^ rotr34 ^ rotr39 of a.
    const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
    const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
    const chh = (eh & fh) ^ (~eh & gh);
    const chl = (el & fl) ^ (~el & gl);
    const t1l =
      (hl >>> 0) +
      (S1l >>> 0) +
      (chl >>> 0) +
      ((K[2 * i + 1] as number) >>> 0) +
      ((W[2 * i + 1] as number) >>> 0);
    const t1h =
      hh + S1h + chh + (K[2 * i] as number) + (W[2 * i] as number) + ((t1l / 0x100000000) | 0);
    const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
    const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
    const majh = (ah & bh) ^ (ah & ch) ^ (bh & ch);
    const majl = (al & bl) ^ (al & cl) ^ (bl & cl);
    const t2l = (S0l >>> 0) + (majl >>> 0);
    const t2h = S0h + majh + ((t2l / 0x100000000) | 0);
    hh = gh;
    hl = gl;
    gh = fh;
    gl = fl;
    fh = eh;
    fl = el;
    const el2 = (dl >>> 0) + ((t1l | 0) >>> 0);
    eh = (dh + t1h + ((el2 / 0x100000000) | 0)) | 0;
    el = el2 | 0;
    dh = ch;
    dl = cl;
    ch = bh;
    cl = bl;
    bh = ah;
    bl = al;
    const al2 = ((t1l | 0) >>> 0) + ((t2l | 0) >>> 0);
    ah = (t1h + t2h + ((al2 / 0x100000000) | 0)) | 0;
    al = al2 | 0;
  }
  const add = (i: number, xh: number, xl: number): void => {
    const l = ((h[2 * i + 1] as number) >>> 0) + (xl >>> 0);
    h[2 * i] = ((h[2 * i] as number) + xh + ((l / 0x100000000) | 0)) | 0;
    h[2 * i + 1] = l | 0;
  };
  add(0, ah, al);
  add(1, bh, bl);
  add(2, ch, cl);
  add(3, dh, dl);
  add(4, eh, el);
  add(5, fh, fl);
  add(6, gh, gl);
  add(7, hh, hl);
}

export function sha512(message: Uint8Array): Uint8Array {
  const h = Int32Array.from(H0);
  const blocks = Math.floor((message.length + 17 + 127) / 128);
  const padded = new Uint8Array(blocks * 128);
  padded.set(message);
  padded[message.length] = 0x80;
  // Length in bits, big-endian in the last 16 bytes; messages here are far below 2^53 bits.
  const bits = message.length * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  for (let off = 0; off < padded.length; off += 128) compress(h, padded, off);
  const out = new Uint8Array(64);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 16; i++) outView.setInt32(i * 4, h[i] as number);
  return out;
}
