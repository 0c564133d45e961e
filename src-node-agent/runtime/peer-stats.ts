/** What one link did in an interval, as the `metrics` event reports it. */
export interface LinkStats {
  sent: number;
  received: number;
  dropped: number;
}

/**
 * Per-peer message counters of the transport, reset by `take`: sent counts every copy that
 * passed the outgoing filter, received every message admitted by the incoming filter, and
 * dropped every message lost on the way (filter, full queues, too many delayed messages).
 */
export class PeerStats {
  private current = new Map<string, LinkStats>();

  sent(peer: string): void {
    this.entry(peer).sent++;
  }

  received(peer: string): void {
    this.entry(peer).received++;
  }

  dropped(peer: string, count = 1): void {
    this.entry(peer).dropped += count;
  }

  /**
   * Counts since the previous call. `peers` always appear (zeros included) so a silent link
   * shows up as silent rather than missing; `filterDrops` are merged in.
   */
  take(
    peers: readonly string[],
    filterDrops: ReadonlyMap<string, number>,
  ): Record<string, LinkStats> {
    for (const [peer, n] of filterDrops) this.dropped(peer, n);
    const out: Record<string, LinkStats> = {};
    for (const peer of peers) out[peer] = { sent: 0, received: 0, dropped: 0 };
    for (const [peer, s] of this.current) out[peer] = s;
    this.current = new Map();
    return out;
  }

  private entry(peer: string): LinkStats {
    let s = this.current.get(peer);
    if (s === undefined) {
      s = { sent: 0, received: 0, dropped: 0 };
      this.current.set(peer, s);
    }
    return s;
  }
}
