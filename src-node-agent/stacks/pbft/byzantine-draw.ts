import type { NodeId } from '../../core/ids';
import { byzantineBehaviours, type ByzantineBehaviour } from './config';

/**
 * f = (n-1)/3 distinct Byzantine replicas, each with its own behaviour, drawn from a seeded
 * source: what `npm run sim -- --stack pbft --byzantine random` runs per seed — the most a
 * 3f+1 cluster must tolerate. (For f = 1 the draws are the same as a single pick, so seeds of
 * n = 4 runs reproduce across versions.)
 */
export function drawByzantine(
  servers: readonly NodeId[],
  randomInt: (bound: number) => number,
): Record<NodeId, ByzantineBehaviour> {
  const f = Math.max(1, Math.floor((servers.length - 1) / 3));
  const remaining = [...servers];
  const drawn: Record<NodeId, ByzantineBehaviour> = {};
  for (let i = 0; i < f && remaining.length > 0; i++) {
    const [node] = remaining.splice(randomInt(remaining.length), 1) as [NodeId];
    drawn[node] = byzantineBehaviours[randomInt(byzantineBehaviours.length)] as ByzantineBehaviour;
  }
  return drawn;
}
