/** A server (replica) in a cluster: "n1" … "nN". Clients are "c1" … "cM". */
export type NodeId = string;

/** Name of a timer within one node; setting a timer with the same name replaces it. */
export type TimerName = string;

export function serverIds(count: number): NodeId[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`cluster size must be a positive integer, got ${String(count)}`);
  }
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

export function clientIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => `c${i + 1}`);
}

export function isClientId(id: NodeId): boolean {
  return id.startsWith('c');
}
