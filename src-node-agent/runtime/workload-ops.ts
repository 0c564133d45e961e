import type { WorkloadSpec } from '../control/workload-spec';
import type { NodeId } from '../core/ids';
import { kvWorkload } from '../sim/kv-workload';
import { Prng } from '../sim/prng';
import type { Workload } from '../sim/simulator';
import type { KvOp } from '../stacks/kv/kv-ops';

/** Zipf exponent of skewed keys (YCSB's default). */
export const ZIPF_EXPONENT = 0.99;

/**
 * The operations one workload client runs: the simulator's key-value workload (same op
 * shapes, unique appended values) driven by a PRNG seeded from `spec.seed` and the client's
 * index, so the same spec gives every client the same op sequence on every run.
 */
export class WorkloadOps {
  private readonly kv: Workload<KvOp>;
  private readonly prng: Prng;
  private readonly keyPrng: Prng;
  private readonly zipf: ZipfSampler | null;

  constructor(spec: WorkloadSpec, clientIndex: number) {
    this.kv = kvWorkload({ keys: spec.keys, mix: mixOf(spec) });
    const root = new Prng(spec.seed);
    this.prng = root.fork(`workload/c${clientIndex}`);
    this.keyPrng = root.fork(`workload-keys/c${clientIndex}`);
    this.zipf =
      spec.keyDistribution === 'zipf'
        ? new ZipfSampler(spec.keys, ZIPF_EXPONENT, () => this.keyPrng.float())
        : null;
  }

  next(client: NodeId): KvOp {
    const op = this.kv.next(client, this.prng);
    return this.zipf === null ? op : { ...op, key: `k${this.zipf.sample()}` };
  }
}

/** A spec that names some kinds runs only those; an empty mix means the default mix. */
function mixOf(spec: WorkloadSpec): Partial<Record<KvOp['f'], number>> | undefined {
  const given = spec.mix;
  if (Object.keys(given).length === 0) return undefined;
  return {
    get: given.get ?? 0,
    put: given.put ?? 0,
    append: given.append ?? 0,
    add: given.add ?? 0,
    cas: given.cas ?? 0,
  };
}

/**
 * Zipf-distributed integers in [1, n] by rejection-inversion (Hörmann & Derflinger 1996, as in
 * Apache Commons RNG): O(1) memory and time per sample, so ten million keys cost nothing.
 */
export class ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly squeeze: number;

  constructor(
    private readonly n: number,
    private readonly exponent: number,
    private readonly uniform: () => number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`zipf: n must be >= 1, got ${n}`);
    if (!(exponent > 0)) throw new Error(`zipf: exponent must be > 0, got ${exponent}`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.squeeze = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  sample(): number {
    for (;;) {
      const u = this.hIntegralN + this.uniform() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      const k = Math.min(this.n, Math.max(1, Math.floor(x + 0.5)));
      if (k - x <= this.squeeze || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.exponent) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.exponent);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

/** log1p(x) / x, accurate near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** expm1(x) / x, accurate near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}
