import type { NodeId } from '../../core/ids';

/**
 * Accept votes per slot (slide 18: order (u,s) on a majority of Proposal/Accept(u,s)). Only the
 * highest view seen for a slot is counted: within one view a slot has one value, so counting
 * voters of (slot, view) counts acceptances of that value.
 */
export class AcceptTally {
  private readonly bySlot = new Map<number, { view: number; voters: Set<NodeId> }>();

  /** Count `voter` for (slot, view); returns false for a vote from an older view. */
  vote(slot: number, view: number, voter: NodeId): boolean {
    const current = this.bySlot.get(slot);
    if (current !== undefined && current.view > view) return false;
    if (current === undefined || current.view < view) {
      this.bySlot.set(slot, { view, voters: new Set([voter]) });
    } else {
      current.voters.add(voter);
    }
    return true;
  }

  count(slot: number, view: number): number {
    const current = this.bySlot.get(slot);
    return current !== undefined && current.view === view ? current.voters.size : 0;
  }

  forget(slot: number): void {
    this.bySlot.delete(slot);
  }

  forgetUpTo(slot: number): void {
    for (const s of Array.from(this.bySlot.keys())) if (s <= slot) this.bySlot.delete(s);
  }
}
