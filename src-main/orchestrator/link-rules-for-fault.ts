import type { LinkRule } from '../../src-node-agent/control/link-rules';
import type { Fault } from '../../src-node-agent/core/faults';
import type { NodeId } from '../../src-node-agent/core/ids';

/**
 * The agent link rules that realize a network fault, per node. A cut a→b is enforced at both
 * ends (a stops sending, b stops accepting), so it holds even while one end restarts.
 */
export function linkRulesForFault(
  fault: Fault,
  servers: readonly NodeId[],
): Map<NodeId, LinkRule[]> {
  const rules = new Map<NodeId, LinkRule[]>();
  const add = (node: NodeId, rule: LinkRule): void => {
    const list = rules.get(node) ?? [];
    list.push(rule);
    rules.set(node, list);
  };
  const cut = (from: NodeId, to: NodeId): void => {
    add(from, { peer: to, direction: 'out', cut: true });
    add(to, { peer: from, direction: 'in', cut: true });
  };
  switch (fault.type) {
    case 'partition': {
      for (const a of servers) {
        for (const b of servers) {
          if (a !== b && !fault.groups.some((g) => g.includes(a) && g.includes(b))) cut(a, b);
        }
      }
      return rules;
    }
    case 'cut':
      cut(fault.from, fault.to);
      return rules;
    case 'degrade': {
      const links =
        fault.links ??
        servers.flatMap((a) =>
          servers.filter((b) => b !== a).map((b) => [a, b] as [NodeId, NodeId]),
        );
      const p = fault.profile;
      for (const [from, to] of links) {
        add(from, {
          peer: to,
          direction: 'out',
          ...(p.loss !== undefined ? { loss: p.loss } : {}),
          ...(p.duplicate !== undefined ? { duplicate: p.duplicate } : {}),
          ...(p.reorder !== undefined ? { reorder: p.reorder } : {}),
          ...(p.delay_ms !== undefined ? { delay_ms: p.delay_ms } : {}),
          ...(p.jitter_ms !== undefined ? { jitter_ms: p.jitter_ms } : {}),
        });
      }
      return rules;
    }
    default:
      return rules;
  }
}
