import type { NodeId } from '../../core/ids';
import { byzantineBehaviours, type ByzantineBehaviour } from './config';

/**
 * One Byzantine replica with one behaviour, drawn from a seeded source: what
 * `npm run sim -- --stack pbft --byzantine random` runs per seed (f = 1 for n = 4).
 */
export function drawByzantine(
  servers: readonly NodeId[],
  randomInt: (bound: number) => number,
): Record<NodeId, ByzantineBehaviour> {
  const node = servers[randomInt(servers.length)] as NodeId;
  const behaviour = byzantineBehaviours[
    randomInt(byzantineBehaviours.length)
  ] as ByzantineBehaviour;
  return { [node]: behaviour };
}
