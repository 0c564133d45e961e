import type { NodeId } from './ids';

export type ComputedPartitionShape = 'isolate' | 'halves' | 'majority-minority' | 'bridge';

/**
 * The groups of a partition shape laid over `order` — the nemesis passes a shuffled order, a
 * lab fault puts the node it names first. The first node is the isolated one, the bridge, or
 * in the minority. Two nodes can talk iff some group holds both.
 */
export function partitionGroups(
  shape: ComputedPartitionShape,
  order: readonly NodeId[],
  /** majority-minority only; default: the largest minority. */
  minoritySize?: number,
): NodeId[][] {
  const n = order.length;
  switch (shape) {
    case 'isolate':
      return [order.slice(0, 1), order.slice(1)];
    case 'halves': {
      const half = Math.floor(n / 2);
      return [order.slice(0, half), order.slice(half)];
    }
    case 'majority-minority': {
      const minority = Math.min(
        Math.max(1, minoritySize ?? Math.floor((n - 1) / 2)),
        Math.floor((n - 1) / 2) || 1,
      );
      return [order.slice(minority), order.slice(0, minority)];
    }
    case 'bridge': {
      const [bridge, ...rest] = order;
      if (bridge === undefined) return [];
      const half = Math.floor(rest.length / 2);
      return [
        [...rest.slice(0, half), bridge],
        [...rest.slice(half), bridge],
      ];
    }
  }
}
