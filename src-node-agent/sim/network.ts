import type { Fault, LinkProfile } from '../core/faults';
import type { NodeId } from '../core/ids';
import type { Prng } from './prng';

/** The modelled network's behaviour on one directed link, in simulator units. */
export interface LinkModel {
  delayMin_us: number;
  delayMax_us: number;
  loss: number;
  duplicate: number;
  /** Probability that a message is held back by up to `reorderWindow_us`, so later ones pass it. */
  reorder: number;
  reorderWindow_us: number;
}

export const LAN_LINK: LinkModel = {
  delayMin_us: 100,
  delayMax_us: 800,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderWindow_us: 5_000,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  droppedLoss: number;
  droppedPartition: number;
  droppedDown: number;
  duplicated: number;
  reordered: number;
}

export function emptyNetworkStats(): NetworkStats {
  return {
    sent: 0,
    delivered: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedDown: 0,
    duplicated: 0,
    reordered: 0,
  };
}

/**
 * Packet-simulator style network (TigerBeetle's packet_simulator): per directed link delay,
 * loss, duplication and reordering, plus partitions and one-way cuts between servers. Clients
 * are never partitioned (they model load generators next to every server) but do see delay.
 */
export class NetworkModel {
  readonly stats: NetworkStats = emptyNetworkStats();
  private readonly index = new Map<NodeId, number>();
  private readonly n: number;
  /** connected[from * n + to] = 1 when a server-to-server message may pass. */
  private readonly connected: Uint8Array;
  private readonly degraded = new Map<number, LinkModel>();
  private degradedAll: LinkModel | null = null;

  constructor(
    readonly servers: readonly NodeId[],
    private readonly base: LinkModel,
    private readonly prng: Prng,
  ) {
    servers.forEach((id, i) => this.index.set(id, i));
    this.n = servers.length;
    this.connected = new Uint8Array(this.n * this.n).fill(1);
  }

  /**
   * Decide the fate of one message: the delays (µs) of each copy to deliver; empty when lost.
   * Partitions are checked again at delivery time (`isConnected`), so a cut also drops
   * messages already in flight.
   */
  plan(from: NodeId, to: NodeId): number[] {
    this.stats.sent++;
    const fi = this.index.get(from);
    const ti = this.index.get(to);
    const serverLink = fi !== undefined && ti !== undefined;
    if (serverLink && this.connected[fi * this.n + ti] === 0) {
      this.stats.droppedPartition++;
      return [];
    }
    const link = serverLink ? this.linkModel(fi, ti) : this.base;
    if (link.loss > 0 && this.prng.chance(link.loss)) {
      this.stats.droppedLoss++;
      return [];
    }
    const first = this.delay(link);
    if (link.duplicate > 0 && this.prng.chance(link.duplicate)) {
      this.stats.duplicated++;
      return [first, this.delay(link)];
    }
    return [first];
  }

  isConnected(from: NodeId, to: NodeId): boolean {
    const fi = this.index.get(from);
    const ti = this.index.get(to);
    if (fi === undefined || ti === undefined) return true;
    return this.connected[fi * this.n + ti] === 1;
  }

  /** Applies a network fault; returns false for faults that are not about the network. */
  apply(fault: Fault): boolean {
    switch (fault.type) {
      case 'partition':
        this.setGroups(fault.groups);
        return true;
      case 'cut': {
        const fi = this.requireIndex(fault.from);
        const ti = this.requireIndex(fault.to);
        this.connected[fi * this.n + ti] = 0;
        return true;
      }
      case 'heal-network':
        this.connected.fill(1);
        return true;
      case 'degrade': {
        const profile = this.fromProfile(fault.profile);
        if (fault.links === undefined) {
          this.degradedAll = profile;
        } else {
          for (const [from, to] of fault.links) {
            this.degraded.set(this.requireIndex(from) * this.n + this.requireIndex(to), profile);
          }
        }
        return true;
      }
      case 'restore-links':
        this.degraded.clear();
        this.degradedAll = null;
        return true;
      default:
        return false;
    }
  }

  healAll(): void {
    this.connected.fill(1);
    this.degraded.clear();
    this.degradedAll = null;
  }

  private setGroups(groups: readonly (readonly NodeId[])[]): void {
    this.connected.fill(0);
    for (const group of groups) {
      const ids = group.map((id) => this.requireIndex(id));
      for (const a of ids) for (const b of ids) this.connected[a * this.n + b] = 1;
    }
    // A node always reaches itself, even when a group list forgets it.
    for (let i = 0; i < this.n; i++) this.connected[i * this.n + i] = 1;
  }

  private linkModel(fi: number, ti: number): LinkModel {
    return this.degraded.get(fi * this.n + ti) ?? this.degradedAll ?? this.base;
  }

  private delay(link: LinkModel): number {
    let d = link.delayMin_us + this.prng.int(link.delayMax_us - link.delayMin_us + 1);
    if (link.reorder > 0 && this.prng.chance(link.reorder)) {
      this.stats.reordered++;
      d += this.prng.int(link.reorderWindow_us + 1);
    }
    return d;
  }

  private fromProfile(p: LinkProfile): LinkModel {
    const delay_us = Math.round((p.delay_ms ?? 0) * 1000);
    const jitter_us = Math.round((p.jitter_ms ?? 0) * 1000);
    const min =
      p.delay_ms === undefined ? this.base.delayMin_us : Math.max(0, delay_us - jitter_us);
    const max = p.delay_ms === undefined ? this.base.delayMax_us : delay_us + jitter_us;
    return {
      delayMin_us: min,
      delayMax_us: Math.max(min, max),
      loss: p.loss ?? 0,
      duplicate: p.duplicate ?? 0,
      reorder: p.reorder ?? 0,
      reorderWindow_us: this.base.reorderWindow_us,
    };
  }

  private requireIndex(id: NodeId): number {
    const i = this.index.get(id);
    if (i === undefined) {
      throw new Error(
        `network fault names node "${id}", which is not a server of this cluster ` +
          `(servers: ${this.servers.join(', ')})`,
      );
    }
    return i;
  }
}
