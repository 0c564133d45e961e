import { isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { IssuePath } from './issue-text';

/**
 * The line of the YAML node at `path`: the key's line for a map entry, the item's line for a
 * list item; for a path that does not exist (a missing field), the nearest existing parent.
 */
export function lineOf(doc: Document, counter: LineCounter, path: IssuePath): number | null {
  let node: unknown = doc.contents;
  let offset: number | null = rangeStart(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) break;
      offset = rangeStart(pair.key) ?? rangeStart(pair.value) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === null ? null : counter.linePos(offset).line;
}

function rangeStart(node: unknown): number | null {
  const range = (node as { range?: readonly number[] | null } | null)?.range;
  return range?.[0] ?? null;
}
