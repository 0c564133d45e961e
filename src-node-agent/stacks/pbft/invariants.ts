import type { Invariant } from '../../core/protocol';

/**
 * Correct replicas that executed the same number of sequence numbers hold the same chain
 * digest: they executed the same requests in the same order. Byzantine replicas
 * (`byzantine` non-null in their status) are not held to anything.
 */
export const correctReplicasAgree: Invariant = {
  name: 'correct-replicas-same-executed-prefix',
  check(statuses) {
    const byExecuted = new Map<number, { node: string; chain: unknown }>();
    for (const [node, status] of statuses) {
      if (status['byzantine'] !== null && status['byzantine'] !== undefined) continue;
      const seen = byExecuted.get(status.executed);
      if (seen === undefined) byExecuted.set(status.executed, { node, chain: status['chain'] });
      else if (seen.chain !== status['chain']) {
        return (
          `${seen.node} and ${node} are correct and both executed ${status.executed} sequence ` +
          `numbers, but their chains differ (${String(seen.chain)} vs ${String(status['chain'])})`
        );
      }
    }
    return null;
  },
};
