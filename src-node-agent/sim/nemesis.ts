import type { Fault, TimedFault } from '../core/faults';
import type { NodeId } from '../core/ids';
import { partitionGroups } from '../core/partition-groups';
import type { Prng } from './prng';

export interface NemesisOptions {
  readonly servers: readonly NodeId[];
  readonly start_ms: number;
  readonly end_ms: number;
  /** Mean gap between two faults. */
  readonly meanInterval_ms?: number;
  /** Fault kinds to draw from; all by default. */
  readonly kinds?: readonly NemesisAction[];
}

export const nemesisActions = [
  'crash',
  'recover',
  'pause',
  'resume',
  'partition',
  'cut',
  'heal-network',
  'degrade',
  'restore-links',
] as const;
export type NemesisAction = (typeof nemesisActions)[number];

/**
 * A seeded random fault schedule (Jepsen's nemesis, TigerBeetle's VOPR): crashes and
 * recoveries, pauses, partitions of every shape, one-way cuts and degraded links, ending with
 * everything healed at `end_ms`. It is generated up front, so a failing run's schedule can be
 * printed, replayed and shrunk.
 */
export function randomSchedule(prng: Prng, options: NemesisOptions): TimedFault[] {
  const servers = options.servers;
  const kinds = options.kinds ?? nemesisActions;
  const mean = options.meanInterval_ms ?? 400;
  const crashed = new Set<NodeId>();
  const paused = new Set<NodeId>();
  const out: TimedFault[] = [];
  let t = options.start_ms;
  for (;;) {
    t += Math.round(mean / 2 + prng.int(mean + 1));
    if (t >= options.end_ms) break;
    const fault = drawFault(prng, kinds, servers, crashed, paused);
    if (fault === null) continue;
    out.push({ at_ms: t, fault });
  }
  out.push({ at_ms: options.end_ms, fault: { type: 'heal-all' } });
  return out;
}

function drawFault(
  prng: Prng,
  kinds: readonly NemesisAction[],
  servers: readonly NodeId[],
  crashed: Set<NodeId>,
  paused: Set<NodeId>,
): Fault | null {
  const up = servers.filter((s) => !crashed.has(s) && !paused.has(s));
  // Draw only among actions that can apply now, so recoveries and resumes are as frequent as
  // the crashes and pauses they undo.
  const applicable = kinds.filter(
    (k) =>
      ((k !== 'crash' && k !== 'pause') || up.length > 1) &&
      (k !== 'recover' || crashed.size > 0) &&
      (k !== 'resume' || paused.size > 0),
  );
  if (applicable.length === 0) return null;
  // Undo actions weigh triple: a crash-recover cycle inside the fault window is what tests
  // recovery from stable storage while the cluster is still under attack.
  const weighted = applicable.flatMap((k) => (k === 'recover' || k === 'resume' ? [k, k, k] : [k]));
  const action = prng.pick(weighted);
  switch (action) {
    case 'crash': {
      if (up.length <= 1) return null;
      const node = prng.pick(up);
      crashed.add(node);
      return { type: 'crash', node };
    }
    case 'recover': {
      if (crashed.size === 0) return null;
      const node = prng.pick(Array.from(crashed).sort());
      crashed.delete(node);
      return { type: 'recover', node };
    }
    case 'pause': {
      if (up.length <= 1) return null;
      const node = prng.pick(up);
      paused.add(node);
      return { type: 'pause', node };
    }
    case 'resume': {
      if (paused.size === 0) return null;
      const node = prng.pick(Array.from(paused).sort());
      paused.delete(node);
      return { type: 'resume', node };
    }
    case 'partition':
      return randomPartition(prng, servers);
    case 'cut': {
      const [from, to] = prng.shuffle(servers);
      if (from === undefined || to === undefined) return null;
      return { type: 'cut', from, to };
    }
    case 'heal-network':
      return { type: 'heal-network' };
    case 'degrade':
      return {
        type: 'degrade',
        profile: {
          delay_ms: prng.int(6),
          jitter_ms: prng.int(6),
          loss: prng.int(31) / 100,
          duplicate: prng.int(21) / 100,
          reorder: prng.int(31) / 100,
        },
      };
    case 'restore-links':
      return { type: 'restore-links' };
  }
}

/** One partition of a random shape, resolved to explicit groups. */
export function randomPartition(prng: Prng, servers: readonly NodeId[]): Fault | null {
  const n = servers.length;
  if (n < 2) return null;
  const order = prng.shuffle(servers);
  const shapes =
    n >= 3
      ? (['isolate', 'halves', 'majority-minority', 'bridge', 'groups'] as const)
      : (['isolate'] as const);
  const shape = prng.pick(shapes);
  switch (shape) {
    case 'isolate':
    case 'halves':
    case 'bridge':
      return { type: 'partition', shape, groups: partitionGroups(shape, order) };
    case 'majority-minority': {
      const minority = 1 + prng.int(Math.max(1, Math.floor((n - 1) / 2)));
      return { type: 'partition', shape, groups: partitionGroups(shape, order, minority) };
    }
    case 'groups': {
      const k = 2 + prng.int(Math.min(2, n - 2));
      const groups: NodeId[][] = Array.from({ length: k }, () => []);
      order.forEach((id, i) => (groups[i % k] as NodeId[]).push(id));
      return { type: 'partition', shape, groups };
    }
  }
}
