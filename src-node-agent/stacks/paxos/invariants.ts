import type { Invariant } from '../../core/protocol';

/**
 * Checked by the simulator while it runs, over every replica's `inspect()`:
 * replicas that executed the same number of slots hold the same chain digest — so they
 * executed the same commands in the same order (the safety property of slide 10).
 */
export const sameExecutedPrefix: Invariant = {
  name: 'same-executed-prefix',
  check(statuses) {
    const byExecuted = new Map<number, { node: string; chain: unknown }>();
    for (const [node, status] of statuses) {
      const seen = byExecuted.get(status.executed);
      if (seen === undefined) byExecuted.set(status.executed, { node, chain: status['chain'] });
      else if (seen.chain !== status['chain']) {
        return (
          `${seen.node} and ${node} both executed ${status.executed} slots but their executed ` +
          `logs differ (chain ${String(seen.chain)} vs ${String(status['chain'])})`
        );
      }
    }
    return null;
  },
};

/** A replica never executes past what it has promised to keep (its log is never rewound). */
export const promiseCoversView: Invariant = {
  name: 'promise-not-above-view',
  check(statuses) {
    for (const [node, status] of statuses) {
      const promised = status['promised'];
      if (typeof promised === 'number' && promised > status.view) {
        return `${node} promised view ${promised} but is in view ${status.view}`;
      }
    }
    return null;
  },
};
