/**
 * The two data structures behind Lowe's memoization in the linearizability search: the set of
 * operations linearized so far, and the cache of (set, state) configurations already explored.
 * Both are sized for histories of 10^4–10^5 operations per partition, where copying a full
 * bitset per configuration would make the search quadratic.
 */

const FULL_WORD = 0xffffffff;
/** 256 MiB of stored bitset words; past that the search reports `unknown`, not a crash. */
const MAX_CACHE_WORDS = 1 << 26;
/** Each configuration also costs ~20 bytes of bookkeeping; this caps that near 100 MiB. */
const MAX_CACHE_ENTRIES = 1 << 22;
const NONE = -1;

/**
 * A bitset over operation indices that also keeps a Zobrist hash (the XOR of its members'
 * hashes) and the window [low, high) of words that are neither all ones nor all zeros.
 * Operations are indexed in invoke order and the search places them roughly in that order, so
 * the window stays a few words wide however long the history is: the cache stores and compares
 * only the window.
 */
export class LinearizedSet {
  readonly bits: Uint32Array;
  /** Every word below `low` is all ones. */
  low = 0;
  /** Every word from `high` on is zero. */
  high = 0;
  hash = 0;

  constructor(size: number) {
    this.bits = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
  }

  add(i: number): void {
    const bits = this.bits;
    const w = i >>> 5;
    bits[w] = (bits[w] as number) | (1 << (i & 31));
    this.hash ^= zobrist(i);
    if (w >= this.high) this.high = w + 1;
    while (this.low < this.high && bits[this.low] === FULL_WORD) this.low++;
  }

  remove(i: number): void {
    const bits = this.bits;
    const w = i >>> 5;
    bits[w] = (bits[w] as number) & ~(1 << (i & 31));
    this.hash ^= zobrist(i);
    if (w < this.low) this.low = w;
    while (this.high > this.low && bits[this.high - 1] === 0) this.high--;
  }
}

/** murmur3's fmix32 of the index: cheap, and spreads neighbouring indices over all bits. */
function zobrist(i: number): number {
  let h = (i + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

export const CACHE_ADDED = 0;
export const CACHE_PRESENT = 1;
export const CACHE_FULL = 2;
export type CacheAdd = typeof CACHE_ADDED | typeof CACHE_PRESENT | typeof CACHE_FULL;

/**
 * The set of explored (linearized set, state) configurations. State keys are interned to small
 * integers; set windows live in one growing Uint32Array pool; entries chain from an
 * open-addressed table of typed arrays (a JS Map of a million entries costs several times
 * more per lookup). So adding a configuration allocates nothing once the arrays have grown, and
 * a lookup compares a few words.
 */
export class MemoCache {
  private readonly stateIds = new Map<string, number>();
  private table = new Int32Array(1 << 12).fill(NONE);
  private chain = new Int32Array(1024);
  private hashOf = new Int32Array(1024);
  private stateOf = new Int32Array(1024);
  private lowOf = new Int32Array(1024);
  private highOf = new Int32Array(1024);
  private offsetOf = new Int32Array(1024);
  private pool = new Uint32Array(4096);
  private poolUsed = 0;
  size = 0;

  /** Adds the configuration unless it is already present or the cache is full. */
  addIfAbsent(set: LinearizedSet, stateKey: string): CacheAdd {
    let stateId = this.stateIds.get(stateKey);
    if (stateId === undefined) {
      stateId = this.stateIds.size;
      this.stateIds.set(stateKey, stateId);
    }
    const { bits, low, high } = set;
    const hash = set.hash ^ Math.imul(stateId + 1, 0x9e3779b1);
    const slot = hash & (this.table.length - 1);
    const first = this.table[slot] as number;
    for (let k = first; k !== NONE; k = this.chain[k] as number) {
      if (this.hashOf[k] !== hash || this.stateOf[k] !== stateId) continue;
      if (this.lowOf[k] !== low || this.highOf[k] !== high) continue;
      const offset = (this.offsetOf[k] as number) - low;
      let w = low;
      while (w < high && this.pool[offset + w] === bits[w]) w++;
      if (w === high) return CACHE_PRESENT;
    }

    const length = high - low;
    if (this.size >= MAX_CACHE_ENTRIES || this.poolUsed + length > MAX_CACHE_WORDS)
      return CACHE_FULL;
    if (this.size === this.chain.length) this.growEntries();
    if (this.poolUsed + length > this.pool.length) this.growPool(this.poolUsed + length);
    const k = this.size++;
    this.hashOf[k] = hash;
    this.stateOf[k] = stateId;
    this.lowOf[k] = low;
    this.highOf[k] = high;
    this.offsetOf[k] = this.poolUsed;
    for (let w = low; w < high; w++) this.pool[this.poolUsed++] = bits[w] as number;
    if (this.size > this.table.length) {
      this.rehash(this.table.length * 2);
    } else {
      this.chain[k] = first;
      this.table[slot] = k;
    }
    return CACHE_ADDED;
  }

  /** Keeps chains about one entry long on average. */
  private rehash(capacity: number): void {
    const table = new Int32Array(capacity).fill(NONE);
    for (let k = 0; k < this.size; k++) {
      const slot = (this.hashOf[k] as number) & (capacity - 1);
      this.chain[k] = table[slot] as number;
      table[slot] = k;
    }
    this.table = table;
  }

  private growEntries(): void {
    const capacity = this.chain.length * 2;
    const grow = (old: Int32Array): Int32Array<ArrayBuffer> => {
      const bigger = new Int32Array(capacity);
      bigger.set(old);
      return bigger;
    };
    this.chain = grow(this.chain);
    this.hashOf = grow(this.hashOf);
    this.stateOf = grow(this.stateOf);
    this.lowOf = grow(this.lowOf);
    this.highOf = grow(this.highOf);
    this.offsetOf = grow(this.offsetOf);
  }

  private growPool(needed: number): void {
    let capacity = this.pool.length * 2;
    while (capacity < needed) capacity *= 2;
    const bigger = new Uint32Array(Math.min(capacity, MAX_CACHE_WORDS));
    bigger.set(this.pool);
    this.pool = bigger;
  }
}
