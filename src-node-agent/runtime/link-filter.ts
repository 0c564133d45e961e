import type { LinkRule } from '../control/link-rules';

/** Extra hold-back of a reordered message when the link has no larger delay of its own. */
export const MIN_REORDER_WINDOW_MS = 5;

/** Fault ids held at once; the orchestrator heals faults, so more means a leak upstream. */
export const MAX_ACTIVE_FAULTS = 10_000;

/** The plan of a message on a link without rules: one copy, now (shared, never mutated). */
const SEND_NOW: readonly number[] = Object.freeze([0]);

/** The combined effect of every rule of one direction for one peer. */
interface LinkEffect {
  cut: boolean;
  /** Probability that a message survives every rule's loss. */
  pass: number;
  /** Probability that a surviving message is NOT duplicated by any rule. */
  noDuplicate: number;
  noReorder: number;
  delay_ms: number;
  jitter_ms: number;
}

/**
 * The agent's portable link fault layer (no root): per directed link cut, loss, duplication,
 * reordering and delay + jitter, grouped by fault id so one fault heals alone.
 *
 * Several rules for one peer combine as independent faults would on a real path: any cut
 * wins, losses compound (a message must survive each), duplications and reorderings compound
 * likewise, and the largest delay and jitter apply (delays are not summed: two faults that
 * each say "200 ms" mean a 200 ms link, not 400).
 */
export class LinkFilter {
  private readonly faults = new Map<string, readonly LinkRule[]>();
  private outgoing = new Map<string, LinkEffect>();
  private incoming = new Map<string, LinkEffect>();
  private readonly droppedTotal = new Map<string, number>();
  private droppedSinceTake = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Replace the rules of `faultId` (an empty list keeps the fault with no effect). */
  setRules(faultId: string, rules: readonly LinkRule[]): void {
    if (!this.faults.has(faultId) && this.faults.size >= MAX_ACTIVE_FAULTS) {
      throw new Error(
        `link filter: ${MAX_ACTIVE_FAULTS} link faults are active; heal some before applying ` +
          `fault "${faultId}"`,
      );
    }
    this.faults.set(faultId, rules.slice());
    this.recompute();
  }

  /** Heal one fault, or every fault when `faultId` is null; returns how many were healed. */
  heal(faultId: string | null): number {
    let healed: number;
    if (faultId === null) {
      healed = this.faults.size;
      this.faults.clear();
    } else {
      healed = this.faults.delete(faultId) ? 1 : 0;
    }
    if (healed > 0) this.recompute();
    return healed;
  }

  activeFaults(): number {
    return this.faults.size;
  }

  /** Rules of one fault, or of all faults when `faultId` is omitted. */
  ruleCount(faultId?: string): number {
    if (faultId !== undefined) return this.faults.get(faultId)?.length ?? 0;
    let n = 0;
    for (const rules of this.faults.values()) n += rules.length;
    return n;
  }

  /**
   * The fate of one message to `peer`: the delay (ms) of each copy to send, in order;
   * `[]` = dropped. `[0]` on a link without rules (the fast path).
   */
  planOutgoing(peer: string): readonly number[] {
    const effect = this.outgoing.get(peer);
    if (effect === undefined) return SEND_NOW;
    if (effect.cut || (effect.pass < 1 && this.random() >= effect.pass)) {
      this.countDrop(peer);
      return [];
    }
    const first = this.delay(effect);
    if (effect.noDuplicate < 1 && this.random() >= effect.noDuplicate) {
      return [first, this.delay(effect)];
    }
    return [first];
  }

  /** Whether a message from `peer` may be delivered (in-rules: cut, loss). */
  allowIncoming(peer: string): boolean {
    const effect = this.incoming.get(peer);
    if (effect === undefined) return true;
    if (effect.cut || (effect.pass < 1 && this.random() >= effect.pass)) {
      this.countDrop(peer);
      return false;
    }
    return true;
  }

  /** Messages to or from `peer` dropped by the filter since it was created. */
  dropped(peer: string): number {
    return this.droppedTotal.get(peer) ?? 0;
  }

  /** Drops per peer since the last call (for per-interval link statistics). */
  takeDropped(): Map<string, number> {
    const out = this.droppedSinceTake;
    this.droppedSinceTake = new Map();
    return out;
  }

  private countDrop(peer: string): void {
    this.droppedTotal.set(peer, (this.droppedTotal.get(peer) ?? 0) + 1);
    this.droppedSinceTake.set(peer, (this.droppedSinceTake.get(peer) ?? 0) + 1);
  }

  private delay(effect: LinkEffect): number {
    let d = effect.delay_ms;
    if (effect.jitter_ms > 0) d += (this.random() * 2 - 1) * effect.jitter_ms;
    if (effect.noReorder < 1 && this.random() >= effect.noReorder) {
      // Held back by a random extra so that later messages can overtake it.
      const window_ms = Math.max(MIN_REORDER_WINDOW_MS, effect.delay_ms + effect.jitter_ms);
      d += this.random() * window_ms;
    }
    return Math.max(0, d);
  }

  private recompute(): void {
    const outgoing = new Map<string, LinkEffect>();
    const incoming = new Map<string, LinkEffect>();
    for (const rules of this.faults.values()) {
      for (const rule of rules) {
        const table = rule.direction === 'out' ? outgoing : incoming;
        let effect = table.get(rule.peer);
        if (effect === undefined) {
          effect = { cut: false, pass: 1, noDuplicate: 1, noReorder: 1, delay_ms: 0, jitter_ms: 0 };
          table.set(rule.peer, effect);
        }
        if (rule.cut === true) effect.cut = true;
        effect.pass *= 1 - (rule.loss ?? 0);
        if (rule.direction === 'out') {
          effect.noDuplicate *= 1 - (rule.duplicate ?? 0);
          effect.noReorder *= 1 - (rule.reorder ?? 0);
          effect.delay_ms = Math.max(effect.delay_ms, rule.delay_ms ?? 0);
          effect.jitter_ms = Math.max(effect.jitter_ms, rule.jitter_ms ?? 0);
        }
      }
    }
    this.outgoing = outgoing;
    this.incoming = incoming;
  }
}
