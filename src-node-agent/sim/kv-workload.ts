import type { NodeId } from '../core/ids';
import type { KvOp } from '../stacks/kv/kv-ops';
import type { Prng } from './prng';
import type { Workload } from './simulator';

export interface KvWorkloadOptions {
  /** Few keys mean more contention, which is what makes a linearizability check bite. */
  readonly keys: number;
  /** Relative weights of the operation kinds. */
  readonly mix?: Partial<Record<KvOp['f'], number>>;
}

const DEFAULT_MIX: Record<KvOp['f'], number> = { get: 40, put: 20, append: 10, add: 15, cas: 15 };

/** Random key-value operations; written values are unique per client so reads are telling. */
export function kvWorkload(options: KvWorkloadOptions): Workload<KvOp> {
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const kinds = Object.keys(mix) as KvOp['f'][];
  const total = kinds.reduce((sum, k) => sum + mix[k], 0);
  if (total <= 0) throw new Error('kv workload: the op mix has no positive weight');
  const counters = new Map<NodeId, number>();
  return {
    next(client: NodeId, prng: Prng): KvOp {
      const n = (counters.get(client) ?? 0) + 1;
      counters.set(client, n);
      const key = `k${prng.int(options.keys) + 1}`;
      let roll = prng.int(total);
      let f: KvOp['f'] = 'get';
      for (const k of kinds) {
        if (roll < mix[k]) {
          f = k;
          break;
        }
        roll -= mix[k];
      }
      switch (f) {
        case 'get':
          return { f, key };
        case 'put':
          return { f, key, value: prng.int(1000) };
        case 'append':
          return { f, key, value: `${client}.${n};` };
        case 'add':
          return { f, key, delta: prng.between(1, 5) };
        case 'cas':
          return {
            f,
            key,
            expected: prng.chance(0.2) ? null : prng.int(1000),
            value: prng.int(1000),
          };
      }
    },
  };
}
