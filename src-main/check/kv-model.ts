import {
  applyKvOp,
  isReadOnly,
  type KvOp,
  type KvOutput,
  type KvValue,
} from '../../src-node-agent/stacks/kv/kv-ops';
import type { Model } from './model';

/**
 * The value of one key, boxed: `null` is a legal KV value, but a model's `step` returns null to
 * mean "illegal", so the bare value cannot be the state.
 */
export interface KvState {
  readonly value: KvValue;
}

const INITIAL_STATE: KvState = { value: null };

/**
 * The replicated key-value store as a sequential specification. It reuses the replicas' own
 * `applyKvOp`, so the checker and the stacks can never disagree about what an operation does.
 * Keys never interact, so each key is its own partition and its state is just its (boxed) value.
 */
export const kvModel: Model<KvState, KvOp, KvOutput> = {
  name: 'kv',

  init(): KvState {
    return INITIAL_STATE;
  },

  step(state: KvState, op: KvOp, output: KvOutput | undefined): KvState | null {
    const applied = applyKvOp(state.value, op) as ReturnType<typeof applyKvOp> | undefined;
    if (applied === undefined) {
      // applyKvOp is exhaustive over KvOp; this only happens for ops that bypassed kvOpSchema.
      throw new Error(
        `kv model: unknown operation ${JSON.stringify(op)}; history ops must match kvOpSchema`,
      );
    }
    // Outputs are primitives (string, finite number, boolean, null), so === is value equality.
    if (output !== undefined && applied.output !== output) return null;
    // Reads and failed swaps keep the value: reuse the box instead of allocating one per step.
    return applied.next === state.value ? state : { value: applied.next };
  },

  partition(op: KvOp): string {
    return op.key;
  },

  readOnly(op: KvOp): boolean {
    return isReadOnly(op);
  },

  // Quoting strings keeps 1, "1" and null apart. Numbers skip JSON.stringify: String() hits
  // V8's number-string cache, and this runs once per search step.
  stateKey(state: KvState): string {
    const value = state.value;
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  },

  describeOp(op: KvOp, output: KvOutput | undefined): string {
    const result = output === undefined ? '?' : JSON.stringify(output);
    switch (op.f) {
      case 'get':
        return `get(${op.key}) → ${result}`;
      case 'put':
        return `put(${op.key}, ${JSON.stringify(op.value)}) → ${output === undefined ? '?' : 'ok'}`;
      case 'append':
        return `append(${op.key}, ${JSON.stringify(op.value)}) → ${output === undefined ? '?' : 'ok'}`;
      case 'add':
        return `add(${op.key}, ${String(op.delta)}) → ${output === undefined ? '?' : 'ok'}`;
      case 'cas':
        return `cas(${op.key}, ${JSON.stringify(op.expected)} → ${JSON.stringify(op.value)}) → ${result}`;
    }
  },
};
