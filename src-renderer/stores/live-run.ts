import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ApiParams, ApiPush, RunInfo } from '../../src-main/api/api-schema';
import type { Fault, RecordsPush } from '../api/types';
import { errorText } from '../api/api-call-error';
import { useConnectionStore } from './connection';
import { createRunViewHolder } from './run-view-holder';

/** Record batches held while run.subscribe is in flight, so none is folded into no view. */
const MAX_EARLY_BATCHES = 500;

/**
 * The run being watched: its info (phase, nodes, problems), the RunView folded from its
 * records, and the operator's actions on it (faults, stop).
 */
export const useLiveRunStore = defineStore('live-run', () => {
  const holder = createRunViewHolder();
  const info = ref<RunInfo | null>(null);
  const starting = ref(false);
  const startError = ref<string | null>(null);
  const subscribeError = ref<string | null>(null);
  const actionError = ref<string | null>(null);
  /** The last fault the operator asked for, for a brief confirmation. */
  const lastAction = ref<string | null>(null);
  /** The run whose records this page receives, once run.subscribe answered. */
  let subscribedTo: string | null = null;
  let pending: { runId: string; promise: Promise<void> } | null = null;
  let early: RecordsPush[] = [];

  async function start(setup: ApiParams<'run.start'>): Promise<boolean> {
    starting.value = true;
    startError.value = null;
    try {
      const runInfo = await useConnectionStore()
        .api()
        .call('run.start', setup, { timeout_ms: 60_000 });
      info.value = runInfo;
      await follow(runInfo.runId);
      return true;
    } catch (error) {
      startError.value = errorText(error);
      return false;
    } finally {
      starting.value = false;
    }
  }

  /** Follows `runId` unless already following it (or about to). */
  function follow(runId: string): Promise<void> {
    if (pending !== null && pending.runId === runId) return pending.promise;
    if (subscribedTo === runId) return Promise.resolve();
    return subscribe(runId);
  }

  /** Asks the server for the run's state and its record stream (again, after a reconnect). */
  function subscribe(runId: string): Promise<void> {
    const api = useConnectionStore().api();
    const previous = subscribedTo;
    subscribedTo = null;
    if (previous !== null && previous !== runId) {
      // Stop the old run's stream; if that fails the pushes are ignored anyway (other runId).
      void api.call('run.unsubscribe', { runId: previous }).catch(() => undefined);
    }
    early = [];
    const promise = (async () => {
      try {
        const result = await api.call('run.subscribe', { runId });
        info.value = result.info;
        holder.reset(result.snapshot);
        subscribeError.value = null;
        subscribedTo = runId;
        const held = early;
        early = [];
        pending = null;
        for (const batch of held) onRecords(batch);
      } catch (error) {
        subscribeError.value = `Could not follow run ${runId}: ${errorText(error)}`;
      } finally {
        if (pending?.runId === runId) pending = null;
      }
    })();
    pending = { runId, promise };
    return promise;
  }

  /** After a page load or reconnect: follow the run in progress (or the latest one). */
  async function attachToCurrent(): Promise<void> {
    const wanted = info.value?.runId;
    try {
      const { runs } = await useConnectionStore().api().call('runs.list', {});
      const target =
        runs.find((r) => r.runId === wanted) ??
        runs.find((r) => r.phase !== 'ended' && r.phase !== 'failed') ??
        runs[runs.length - 1];
      if (target !== undefined) {
        info.value = target;
        await subscribe(target.runId);
      }
    } catch (error) {
      subscribeError.value = `Could not list runs: ${errorText(error)}`;
    }
  }

  function onRecords(push: RecordsPush): void {
    if (push.stream.kind !== 'run') return;
    if (pending !== null && pending.runId === push.stream.runId) {
      if (early.length < MAX_EARLY_BATCHES) early.push(push);
      return;
    }
    if (info.value === null || push.stream.runId !== info.value.runId) return;
    if (push.snapshot !== undefined) holder.reset(push.snapshot);
    holder.apply(push.records);
  }

  /**
   * A run's info changed. Ours: take it. Another run that just started (from another page, or
   * the CLI of the same server) while ours is over or absent: follow that one instead.
   */
  function onRunInfo(next: RunInfo): void {
    const current = info.value;
    if (current !== null && current.runId === next.runId) {
      info.value = next;
      return;
    }
    const currentActive = current !== null && isActive(current);
    if (!currentActive && isActive(next)) {
      info.value = next;
      void follow(next.runId);
    }
  }

  function onPush(push: ApiPush): void {
    switch (push.push) {
      case 'records':
        onRecords(push);
        return;
      case 'run-info':
        onRunInfo(push.info);
        return;
      case 'checks':
        if (info.value?.runId === push.runId) holder.setChecks(push.checks);
        return;
    }
  }

  async function fault(f: Fault, description: string): Promise<void> {
    const runId = info.value?.runId;
    if (runId === undefined) return;
    actionError.value = null;
    try {
      const { label } = await useConnectionStore().api().call('run.fault', { runId, fault: f });
      lastAction.value = label;
    } catch (error) {
      actionError.value = `${description} failed: ${errorText(error)}`;
    }
  }

  async function stop(): Promise<void> {
    const runId = info.value?.runId;
    if (runId === undefined) return;
    actionError.value = null;
    try {
      await useConnectionStore().api().call('run.stop', { runId }, { timeout_ms: 60_000 });
    } catch (error) {
      actionError.value = `Stopping the run failed: ${errorText(error)}`;
    }
  }

  function dismissActionError(): void {
    actionError.value = null;
  }

  return {
    view: holder.view,
    version: holder.version,
    info,
    starting,
    startError,
    subscribeError,
    actionError,
    lastAction,
    start,
    subscribe,
    attachToCurrent,
    onPush,
    fault,
    stop,
    dismissActionError,
  };
});

function isActive(run: RunInfo): boolean {
  return run.phase === 'starting' || run.phase === 'running';
}
