import type { ActiveFault } from '../../src-main/api/run-view-schema';
import type { Fault } from '../api/types';

/**
 * How to undo one active fault with the faults the api has: a crash by restarting the node, a
 * pause by resuming it, and network faults by healing the network (cuts and partitions) or
 * restoring links (degradations) — those undo every fault of their kind, which the button says.
 */
export function healFor(
  fault: ActiveFault,
  node: string | null,
): { fault: Fault; label: string } | null {
  switch (fault.type) {
    case 'crash':
      return node === null ? null : { fault: { type: 'recover', node }, label: `Restart ${node}` };
    case 'pause':
      return node === null ? null : { fault: { type: 'resume', node }, label: `Resume ${node}` };
    case 'partition':
    case 'cut':
      return { fault: { type: 'heal-network' }, label: 'Heal network' };
    case 'degrade':
      return { fault: { type: 'restore-links' }, label: 'Restore links' };
    default:
      return null;
  }
}
