import type { Persisted } from '../../core/protocol';
import { commandDigest } from './command-digest';
import type { Command, SnapshotTransfer } from './messages';

/** An accepted log entry: the value this replica accepted for a slot, and in which view. */
export interface Entry {
  readonly view: number;
  readonly cmd: Command;
  readonly digest: string;
  /** Known to be ordered (volatile: recomputed after a crash). */
  committed: boolean;
}

const PROMISED_KEY = 'promised';
const SNAPSHOT_KEY = 'snap';
const ACCEPTED_PREFIX = 'acc/';

/**
 * A Paxos replica's stable storage: the promise, the accepted value per slot, and the latest
 * snapshot. Every change is written through `persist` at the moment it is made, so whatever a
 * replica says afterwards (Prepare-OK, Accept) is backed by storage that survives a crash.
 */
export class StableLog {
  private promisedView = 0;
  private readonly entries = new Map<number, Entry>();
  private latestSnapshot: SnapshotTransfer | null = null;

  constructor(private readonly persist: (key: string, value: unknown) => void) {}

  /** Rebuild from what a crashed incarnation persisted. */
  load(persisted: Persisted): void {
    this.promisedView = (persisted.get(PROMISED_KEY) as number | undefined) ?? 0;
    this.latestSnapshot = (persisted.get(SNAPSHOT_KEY) as SnapshotTransfer | undefined) ?? null;
    const floor = this.latestSnapshot?.slot ?? 0;
    for (const [key, value] of persisted) {
      if (!key.startsWith(ACCEPTED_PREFIX)) continue;
      const slot = Number(key.slice(ACCEPTED_PREFIX.length));
      const { view, cmd } = value as { view: number; cmd: Command };
      if (slot > floor)
        this.entries.set(slot, { view, cmd, digest: commandDigest(cmd), committed: false });
    }
  }

  get promised(): number {
    return this.promisedView;
  }

  get snapshot(): SnapshotTransfer | null {
    return this.latestSnapshot;
  }

  get size(): number {
    return this.entries.size;
  }

  get(slot: number): Entry | undefined {
    return this.entries.get(slot);
  }

  /** Accepted entries at or above `fromSlot`, for a Prepare-OK. */
  from(fromSlot: number): { slot: number; view: number; cmd: Command }[] {
    const out: { slot: number; view: number; cmd: Command }[] = [];
    for (const [slot, e] of this.entries)
      if (slot >= fromSlot) out.push({ slot, view: e.view, cmd: e.cmd });
    return out;
  }

  /** Raise the promise; never lowers it. */
  promise(view: number): void {
    if (view <= this.promisedView) return;
    this.promisedView = view;
    this.persist(PROMISED_KEY, view);
  }

  /** Record that this replica accepted `cmd` for `slot` in `view`. */
  accept(slot: number, view: number, cmd: Command): Entry {
    const digest = commandDigest(cmd);
    const existing = this.entries.get(slot);
    const committed = existing !== undefined && existing.committed && existing.digest === digest;
    const entry: Entry = { view, cmd, digest, committed };
    this.entries.set(slot, entry);
    this.persist(ACCEPTED_PREFIX + slot, { view, cmd });
    return entry;
  }

  /** Keep `snap` as the latest snapshot and compact every entry it covers. */
  saveSnapshot(snap: SnapshotTransfer): void {
    this.latestSnapshot = snap;
    this.persist(SNAPSHOT_KEY, snap);
    for (const slot of Array.from(this.entries.keys())) {
      if (slot <= snap.slot) {
        this.entries.delete(slot);
        this.persist(ACCEPTED_PREFIX + slot, undefined);
      }
    }
  }
}
