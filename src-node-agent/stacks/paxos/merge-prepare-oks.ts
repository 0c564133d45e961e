import type { Command, PaxosMessage, SnapshotTransfer } from './messages';

export type PrepareOk = Extract<PaxosMessage, { t: 'prepare-ok' }>;

export interface MergedPrepare {
  /** The newest snapshot any replier had, if any. */
  readonly snapshot: SnapshotTransfer | null;
  /** Per slot after `executed`: the proposal with the greatest view (slides 13–17). */
  readonly chosen: ReadonlyMap<number, Command>;
  /** Highest slot any replier accepted; slots up to it without a proposal get a no-op. */
  readonly maxSlot: number;
}

/**
 * A new leader's view of what may already be ordered: whatever was accepted by a majority was
 * accepted by at least one server of any majority, so merging a majority's Prepare-OKs and
 * keeping, per slot, the proposal with the greatest view cannot lose an ordered command.
 */
export function mergePrepareOks(replies: Iterable<PrepareOk>, executed: number): MergedPrepare {
  let snapshot: SnapshotTransfer | null = null;
  const chosen = new Map<number, { view: number; cmd: Command }>();
  let maxSlot = executed;
  for (const r of replies) {
    if (r.snapshot !== null && (snapshot === null || r.snapshot.slot > snapshot.slot)) {
      snapshot = r.snapshot;
    }
    for (const e of r.entries) {
      if (e.slot <= executed) continue;
      const prev = chosen.get(e.slot);
      if (prev === undefined || e.view > prev.view)
        chosen.set(e.slot, { view: e.view, cmd: e.cmd });
      if (e.slot > maxSlot) maxSlot = e.slot;
    }
  }
  const commands = new Map<number, Command>();
  for (const [slot, { cmd }] of chosen) commands.set(slot, cmd);
  return { snapshot, chosen: commands, maxSlot };
}
