import { sha512 } from './sha512';

/**
 * Ed25519 signatures (RFC 8032, section 5.1) in plain TypeScript with BigInt, for PBFT's
 * signature mode: deterministic, no I/O, runs in every driver and in a browser. Not
 * constant-time — fine for a lab whose keys come from the run's secret, not for real secrets.
 * A driver may inject a faster implementation of the same SignatureScheme (auth-scheme.ts).
 */

const P = 2n ** 255n - 19n;
const MASK_255 = 2n ** 255n - 1n;
/** Order of the base point. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = mod(-121665n * inverse(121666n));
const D2 = mod(2n * D);
/** sqrt(-1) mod p. */
const I = power(2n, (P - 1n) / 4n);

/** A point in extended twisted Edwards coordinates: x = X/Z, y = Y/Z, xy = T/Z. */
interface Point {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;
}

const ZERO: Point = { X: 0n, Y: 1n, Z: 1n, T: 0n };
const BY = mod(4n * inverse(5n));
const BASE: Point = (() => {
  const x = recoverX(BY, 0);
  if (x === null) throw new Error('ed25519: the base point does not decode (arithmetic bug)');
  return { X: x, Y: BY, Z: 1n, T: mod(x * BY) };
})();
/** The base point's window table, built on first use. */
let baseTable: WindowTable | null = null;

/**
 * a mod p for 0 <= a < 2^512, without a division: 2^255 = 19 (mod p), so fold the high bits
 * down twice. Several times faster than `%` on the hot path (point addition).
 */
function reduce(a: bigint): bigint {
  let r = (a & MASK_255) + 19n * (a >> 255n);
  r = (r & MASK_255) + 19n * (r >> 255n);
  return r >= P ? r - P : r;
}

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r >= 0n ? r : r + m;
}

function power(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = reduce(result * b);
    b = reduce(b * b);
    e >>= 1n;
  }
  return result;
}

function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}

/** Unified addition (add-2008-hwcd-3, a = -1): also correct for doubling. */
function add(p: Point, q: Point): Point {
  // Coordinates are in [0, p); adding p before a subtraction keeps every product >= 0.
  const A = reduce((p.Y - p.X + P) * (q.Y - q.X + P));
  const B = reduce((p.Y + p.X) * (q.Y + q.X));
  const C = reduce(reduce(p.T * D2) * q.T);
  const Dz = reduce(2n * p.Z * q.Z);
  const E = B - A + P;
  const F = Dz - C + P;
  const G = Dz + C;
  const H = B + A;
  return { X: reduce(E * F), Y: reduce(G * H), Z: reduce(F * G), T: reduce(E * H) };
}

/**
 * A fixed point's 4-bit window table: row i holds j · 16^i · point for j in [0, 16), so a
 * scalar multiple is at most 64 additions. Built once per point (the base point, and each
 * peer's public key), since every signature check multiplies the same few points.
 */
type WindowTable = readonly (readonly Point[])[];

function windowTable(point: Point): WindowTable {
  const rows: Point[][] = [];
  let start = point;
  for (let i = 0; i < 64; i++) {
    const row: Point[] = [ZERO, start];
    for (let j = 2; j < 16; j++) row.push(add(row[j - 1] as Point, start));
    rows.push(row);
    start = add(row[15] as Point, start);
  }
  return rows;
}

function multiplyTable(scalar: bigint, table: WindowTable): Point {
  let result = ZERO;
  let k = scalar;
  for (let i = 0; k > 0n; i++, k >>= 4n) {
    const j = Number(k & 15n);
    if (j !== 0) result = add(result, (table[i] as Point[])[j] as Point);
  }
  return result;
}

function multiplyBase(scalar: bigint): Point {
  baseTable ??= windowTable(BASE);
  return multiplyTable(scalar, baseTable);
}

function equal(p: Point, q: Point): boolean {
  return mod(p.X * q.Z - q.X * p.Z) === 0n && mod(p.Y * q.Z - q.Y * p.Z) === 0n;
}

function encode(p: Point): Uint8Array {
  const zInv = inverse(p.Z);
  const x = mod(p.X * zInv);
  const y = mod(p.Y * zInv);
  const out = littleEndian(y, 32);
  out[31] = (out[31] as number) | (Number(x & 1n) << 7);
  return out;
}

function recoverX(y: bigint, sign: number): bigint | null {
  if (y >= P) return null;
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (v * v * v) % P;
  let x = (((u * v3) % P) * power((u * v3 * v3 * v) % P, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 !== u) {
    if (vx2 !== mod(-u)) return null;
    x = (x * I) % P;
  }
  if (x === 0n && sign === 1) return null;
  if (Number(x & 1n) !== sign) x = P - x;
  return x;
}

function decode(bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null;
  const copy = bytes.slice();
  const sign = ((copy[31] as number) >> 7) & 1;
  copy[31] = (copy[31] as number) & 0x7f;
  const y = fromLittleEndian(copy);
  const x = recoverX(y, sign);
  if (x === null) return null;
  return { X: x, Y: y, Z: 1n, T: mod(x * y) };
}

function littleEndian(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = 0; i < length; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function fromLittleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function hashToScalar(...parts: Uint8Array[]): bigint {
  return mod(fromLittleEndian(sha512(concat(...parts))), L);
}

/** The secret scalar and the nonce prefix of a 32-byte seed (RFC 8032, 5.1.5). */
function expand(seed: Uint8Array): { scalar: bigint; prefix: Uint8Array } {
  if (seed.length !== 32) throw new Error(`ed25519: a seed is 32 bytes, got ${seed.length}`);
  const h = sha512(seed);
  const a = h.slice(0, 32);
  a[0] = (a[0] as number) & 248;
  a[31] = ((a[31] as number) & 127) | 64;
  return { scalar: fromLittleEndian(a), prefix: h.slice(32) };
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519Signer(seed).publicKey;
}

/** A signer for one seed, with the secret scalar and the public key computed once. */
export function ed25519Signer(seed: Uint8Array): {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
} {
  const { scalar, prefix } = expand(seed);
  const publicKey = encode(multiplyBase(scalar));
  return {
    publicKey,
    sign(message) {
      const r = hashToScalar(prefix, message);
      const R = encode(multiplyBase(r));
      const k = hashToScalar(R, publicKey, message);
      return concat(R, littleEndian(mod(r + k * scalar, L), 32));
    },
  };
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519Signer(seed).sign(message);
}

/**
 * A signature checker for one public key, with the key decoded and its window table built
 * once; null if the key is not a valid point.
 */
export function ed25519Verifier(
  publicKey: Uint8Array,
): ((message: Uint8Array, signature: Uint8Array) => boolean) | null {
  const A = publicKey.length === 32 ? decode(publicKey) : null;
  if (A === null) return null;
  const table = windowTable(A);
  const key = publicKey.slice();
  return (message, signature) => {
    if (signature.length !== 64) return false;
    const R = decode(signature.slice(0, 32));
    const S = fromLittleEndian(signature.slice(32));
    if (R === null || S >= L) return false;
    const k = hashToScalar(signature.slice(0, 32), key, message);
    return equal(multiplyBase(S), add(R, multiplyTable(k, table)));
  };
}

export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return ed25519Verifier(publicKey)?.(message, signature) ?? false;
}
