import { groupByOwner, listKernelObjects } from './netns-inventory';
import { ownedObjects, removeOwned, type TeardownReport } from './netns-testbed-down';
import { isLive, listStateIds, readState } from './netns-state';

export interface LeftoverReport {
  /** Testbeds of crashed runs, removed now. */
  readonly removed: TeardownReport[];
  /** Testbeds that are still in use (their owner runs, or a kept testbed's sshds run). */
  readonly live: string[];
}

/**
 * Find and remove what crashed runs left behind: state files whose owner is gone, and kernel
 * objects with our name prefix that no live state file claims. Call it holding the runtime
 * lock (withRuntimeLock): a concurrent `up` writes its state file under that lock before
 * creating anything, so its half-built testbed is always claimed and never taken for a leftover.
 */
export async function removeLeftovers(runtimeDir: string): Promise<LeftoverReport> {
  const live: string[] = [];
  const dead = new Set<string>();
  for (const id of await listStateIds(runtimeDir)) {
    const state = await readState(runtimeDir, id);
    if (state === null) continue;
    if (isLive(state)) live.push(id);
    else dead.add(id);
  }
  for (const id of groupByOwner(await listKernelObjects()).keys()) {
    if (!live.includes(id)) dead.add(id);
  }
  const removed: TeardownReport[] = [];
  for (const id of [...dead].sort()) {
    removed.push(await removeOwned(await ownedObjects(runtimeDir, id)));
  }
  return { removed, live: live.sort() };
}
