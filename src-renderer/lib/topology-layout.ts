import type { LinkView, NodeView } from '../../src-main/api/run-view-schema';

/**
 * Where the topology diagram puts things: replicas evenly on a circle (the first at the top,
 * clockwise), workload/client nodes in a column to the left, and one line per replica pair
 * carrying the state of both directions.
 */
export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PlacedNode extends Point {
  readonly id: string;
  readonly role: 'replica' | 'workload';
}

export type DirectionState = 'ok' | 'cut' | 'degraded';

export interface PairLink {
  readonly a: string;
  readonly b: string;
  readonly ab: DirectionState;
  readonly ba: DirectionState;
  readonly detail: string;
  readonly from: Point;
  readonly to: Point;
}

export interface TopologyLayout {
  readonly width: number;
  readonly height: number;
  /** Node circle radius: smaller when many replicas share the circle. */
  readonly nodeRadius: number;
  readonly nodes: PlacedNode[];
  readonly links: PairLink[];
}

export const NODE_RADIUS = 22;
/** Above this many replicas only faulted links are drawn: a full mesh would be a grey disc. */
export const FULL_MESH_LIMIT = 12;

export function layoutTopology(
  nodes: readonly Pick<NodeView, 'id' | 'role'>[],
  links: readonly LinkView[],
  width: number,
  height: number,
): TopologyLayout {
  const replicas = nodes.filter((n) => n.role === 'replica');
  const workloads = nodes.filter((n) => n.role === 'workload');
  const sideColumn = workloads.length > 0 ? 90 : 0;
  const cx = sideColumn + (width - sideColumn) / 2;
  const cy = height / 2;
  const radius = Math.max(40, Math.min(width - sideColumn, height) / 2 - NODE_RADIUS - 26);
  const placed: PlacedNode[] = replicas.map((n, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, replicas.length);
    return {
      id: n.id,
      role: n.role,
      x: cx + radius * Math.cos(angle),
      y: cy + radius * Math.sin(angle),
    };
  });
  const gap = Math.min(80, (height - 40) / Math.max(1, workloads.length));
  workloads.forEach((n, i) => {
    const y = cy + (i - (workloads.length - 1) / 2) * gap;
    placed.push({ id: n.id, role: n.role, x: 46, y });
  });
  const nodeRadius = Math.max(
    7,
    Math.min(NODE_RADIUS, ((Math.PI * radius) / Math.max(1, replicas.length)) * 0.8),
  );
  const dense = replicas.length > FULL_MESH_LIMIT;
  const at = new Map(placed.map((p) => [p.id, p]));
  const state = new Map<string, LinkView>();
  for (const l of links) state.set(`${l.from}>${l.to}`, l);
  const pairs: PairLink[] = [];
  for (let i = 0; i < replicas.length; i++) {
    for (let j = i + 1; j < replicas.length; j++) {
      const a = replicas[i]!.id;
      const b = replicas[j]!.id;
      const ab = state.get(`${a}>${b}`);
      const ba = state.get(`${b}>${a}`);
      if (dense && ab === undefined && ba === undefined) continue;
      pairs.push({
        a,
        b,
        ab: ab?.state ?? 'ok',
        ba: ba?.state ?? 'ok',
        detail: [ab?.detail, ba?.detail].filter((d) => d !== undefined).join('; '),
        from: at.get(a)!,
        to: at.get(b)!,
      });
    }
  }
  return { width, height, nodeRadius, nodes: placed, links: pairs };
}

/** How a pair is drawn: one colour for the line, and arrowheads for one-way cuts. */
export function pairStyle(link: Pick<PairLink, 'ab' | 'ba'>): {
  state: DirectionState;
  oneWay: 'ab' | 'ba' | null;
} {
  if (link.ab === 'cut' && link.ba === 'cut') return { state: 'cut', oneWay: null };
  if (link.ab === 'cut') return { state: 'cut', oneWay: 'ab' };
  if (link.ba === 'cut') return { state: 'cut', oneWay: 'ba' };
  if (link.ab === 'degraded' || link.ba === 'degraded') return { state: 'degraded', oneWay: null };
  return { state: 'ok', oneWay: null };
}

/** The segment between two node circles (so arrowheads stop at the rim, not the centre). */
export function trimmedSegment(
  from: Point,
  to: Point,
  inset: number = NODE_RADIUS + 4,
): [Point, Point] {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy);
  if (length <= 2 * inset) return [from, to];
  const ux = dx / length;
  const uy = dy / length;
  return [
    { x: from.x + ux * inset, y: from.y + uy * inset },
    { x: to.x - ux * inset, y: to.y - uy * inset },
  ];
}

/** Partition groups for "partition selected": the selection against the other replicas. */
export function partitionGroups(
  replicaIds: readonly string[],
  selected: ReadonlySet<string>,
): string[][] | null {
  const inside = replicaIds.filter((id) => selected.has(id));
  const outside = replicaIds.filter((id) => !selected.has(id));
  if (inside.length === 0 || outside.length === 0) return null;
  return [inside, outside];
}
