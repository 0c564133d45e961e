import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { hash53 } from '../core/hash';

type Generator = ReturnType<typeof xoroshiro128plus>;

const TWO_POW_32 = 4294967296;

/**
 * The simulator's only source of randomness. Each concern (network, nemesis, each node, each
 * client, the workload) forks its own stream by name, so adding a fault to a schedule does not
 * shift the randomness every other part of the run sees — which is what makes schedule
 * shrinking meaningful. Integer-based: the same seed gives the same run on every machine.
 */
export class Prng {
  private readonly gen: Generator;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`seed must be a non-negative safe integer, got ${String(seed)}`);
    }
    this.gen = xoroshiro128plus(seed);
  }

  /** An independent stream for one named purpose. */
  fork(name: string): Prng {
    return new Prng(hash53(name, this.seed % TWO_POW_32));
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    if (bound <= 1) return 0;
    // Multiply-shift is unbiased enough for simulation ranges (< 2^20) and branch-free.
    return Math.floor(((this.gen.next() >>> 0) / TWO_POW_32) * bound);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return (this.gen.next() >>> 0) / TWO_POW_32;
  }

  chance(probability: number): boolean {
    return probability > 0 && this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}
