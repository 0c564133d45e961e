import { markRaw, ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import type { RunViewSnapshot } from '../../src-main/api/run-view-schema';
import type { CheckResult, RunRecord } from '../api/types';
import { RunView } from '../api/contract';
import { FrameCoalescer } from '../lib/frame-coalescer';

/**
 * One RunView (live run or playback) as the views see it. The RunView itself is mutated in
 * place by every record and is deliberately NOT reactive (markRaw inside a shallowRef): making
 * it reactive would put a Proxy on every field touched 10,000 times a second. Views depend on
 * `version` instead, which is bumped at most once per animation frame after records landed.
 */
export interface RunViewHolder {
  readonly view: ShallowRef<RunView | null>;
  readonly version: Ref<number>;
  reset(snapshot: RunViewSnapshot): void;
  apply(records: readonly RunRecord[]): void;
  setChecks(checks: readonly CheckResult[]): void;
  clear(): void;
  dispose(): void;
}

export function createRunViewHolder(
  requestFrame?: (cb: () => void) => number,
  cancelFrame?: (handle: number) => void,
): RunViewHolder {
  const view = shallowRef<RunView | null>(null);
  const version = ref(0);
  const bump = new FrameCoalescer(
    () => {
      version.value++;
    },
    requestFrame,
    cancelFrame,
  );
  return {
    view,
    version,
    reset(snapshot) {
      view.value = markRaw(RunView.fromSnapshot(snapshot));
      version.value++;
    },
    apply(records) {
      const current = view.value;
      if (current === null || records.length === 0) return;
      for (const record of records) current.apply(record);
      bump.request();
    },
    setChecks(checks) {
      const current = view.value;
      if (current === null) return;
      current.setChecks(checks);
      bump.request();
    },
    clear() {
      view.value = null;
      version.value++;
    },
    dispose() {
      bump.dispose();
      view.value = null;
    },
  };
}
