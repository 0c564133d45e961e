import type { Fault } from '../../src-node-agent/core/faults';
import type { NodeId } from '../../src-node-agent/core/ids';
import { partitionGroups } from '../../src-node-agent/core/partition-groups';
import { describeNodeTarget, type LabFaultAction, type NodeTarget } from './lab-schema';

/**
 * What a scripted fault needs to know about the cluster at the moment it fires. Partitions are
 * recorded with explicit groups (core/faults.ts), so the choice made here replays exactly.
 */
export interface FaultWorld {
  /** Every replica, in order (n1..nN). */
  readonly servers: readonly NodeId[];
  /** The current leader as the orchestrator sees it (latest leader-elected/view-installed), or null. */
  readonly leader: NodeId | null;
  /** The node the latest crash hit (script or nemesis), or null. */
  readonly lastCrashed: NodeId | null;
  readonly lastPaused: NodeId | null;
  /** Uniform integer in [0, bound) from the run's seeded PRNG. */
  randomInt(bound: number): number;
}

export type ResolvedLabFault =
  { readonly ok: true; readonly fault: Fault } | { readonly ok: false; readonly reason: string };

/** Resolve a node target now; a reason when it names nothing (no leader yet, nothing crashed). */
export function resolveNodeTarget(
  target: NodeTarget,
  world: FaultWorld,
): { readonly node: NodeId } | { readonly reason: string } {
  switch (target.kind) {
    case 'node':
      return world.servers.includes(target.node)
        ? { node: target.node }
        : { reason: `node ${target.node} is not part of this cluster` };
    case 'leader':
      return world.leader !== null
        ? { node: world.leader }
        : { reason: 'no leader is known at this moment' };
    case 'random': {
      const node = world.servers[world.randomInt(world.servers.length)];
      return node !== undefined ? { node } : { reason: 'the cluster has no servers' };
    }
    case 'last-crashed':
      return world.lastCrashed !== null
        ? { node: world.lastCrashed }
        : { reason: 'no node has crashed yet' };
    case 'last-paused':
      return world.lastPaused !== null
        ? { node: world.lastPaused }
        : { reason: 'no node has been paused yet' };
  }
}

/** A lab fault turned into the Fault the drivers apply (core/faults.ts), or why it cannot fire. */
export function resolveLabFault(action: LabFaultAction, world: FaultWorld): ResolvedLabFault {
  const fail = (reason: string): ResolvedLabFault => ({ ok: false, reason });
  const node = (target: NodeTarget): { node: NodeId } | { reason: string } =>
    resolveNodeTarget(target, world);

  switch (action.type) {
    case 'crash':
    case 'restart':
    case 'pause':
    case 'resume': {
      const r = node(action.target);
      if ('reason' in r)
        return fail(`${action.type} ${describeNodeTarget(action.target)}: ${r.reason}`);
      const type = action.type === 'restart' ? 'recover' : action.type;
      return { ok: true, fault: { type, node: r.node } };
    }
    case 'heal':
      return {
        ok: true,
        fault: {
          type:
            action.what === 'network'
              ? 'heal-network'
              : action.what === 'links'
                ? 'restore-links'
                : 'heal-all',
        },
      };
    case 'cut': {
      const from = node(action.from);
      if ('reason' in from)
        return fail(`cut from ${describeNodeTarget(action.from)}: ${from.reason}`);
      const to = node(action.to);
      if ('reason' in to) return fail(`cut to ${describeNodeTarget(action.to)}: ${to.reason}`);
      if (from.node === to.node) {
        return fail(
          `cut ${describeNodeTarget(action.from)} -> ${describeNodeTarget(action.to)}: both are ${from.node}`,
        );
      }
      return { ok: true, fault: { type: 'cut', from: from.node, to: to.node } };
    }
    case 'degrade':
      return {
        ok: true,
        fault:
          action.links === null
            ? { type: 'degrade', profile: action.profile }
            : {
                type: 'degrade',
                links: action.links.map(([a, b]) => [a, b] as [NodeId, NodeId]),
                profile: action.profile,
              },
      };
    case 'partition':
      return resolvePartition(action, world);
    case 'byzantine': {
      const r = node(action.target);
      if ('reason' in r) return fail(`byzantine ${describeNodeTarget(action.target)}: ${r.reason}`);
      return { ok: true, fault: { type: 'byzantine', node: r.node, behaviour: action.behaviour } };
    }
  }
}

function resolvePartition(
  action: Extract<LabFaultAction, { type: 'partition' }>,
  world: FaultWorld,
): ResolvedLabFault {
  const servers = world.servers;
  const n = servers.length;
  if (n < 2) return { ok: false, reason: 'a partition needs at least 2 servers' };
  let focus: NodeId | null = null;
  if (action.node !== null) {
    const r = resolveNodeTarget(action.node, world);
    if ('reason' in r) {
      return {
        ok: false,
        reason: `partition ${action.shape} around ${describeNodeTarget(action.node)}: ${r.reason}`,
      };
    }
    focus = r.node;
  }
  // The focus node first, the rest in a seeded random order.
  const others = shuffle(
    servers.filter((s) => s !== focus),
    world,
  );
  const order = focus === null ? others : [focus, ...others];
  const shape = action.shape;
  if (shape === 'bridge' && n < 3) {
    return { ok: false, reason: 'a bridge partition needs at least 3 servers' };
  }
  switch (shape) {
    case 'isolate':
    case 'halves':
    case 'majority-minority':
    case 'bridge':
      return {
        ok: true,
        fault: { type: 'partition', shape, groups: partitionGroups(shape, order) },
      };
    case 'groups': {
      if (action.groups === null) return { ok: false, reason: 'partition groups without groups' };
      return {
        ok: true,
        fault: { type: 'partition', shape, groups: action.groups.map((g) => [...g]) },
      };
    }
  }
}

function shuffle(items: readonly NodeId[], world: FaultWorld): NodeId[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = world.randomInt(i + 1);
    [out[i], out[j]] = [out[j] as NodeId, out[i] as NodeId];
  }
  return out;
}
