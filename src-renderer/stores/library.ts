import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LabSummary, RecordingSummary } from '../../src-main/api/api-schema';
import { errorText } from '../api/api-call-error';
import { useConnectionStore } from './connection';

type Load = 'idle' | 'loading' | 'loaded' | 'error';

/** What the orchestrator has on disk: labs to start and recordings to play back. */
export const useLibraryStore = defineStore('library', () => {
  const labs = ref<LabSummary[]>([]);
  const labErrors = ref<string[]>([]);
  const labsState = ref<Load>('idle');
  const labsError = ref<string | null>(null);

  const recordings = ref<RecordingSummary[]>([]);
  const recordingErrors = ref<string[]>([]);
  const recordingsState = ref<Load>('idle');
  const recordingsError = ref<string | null>(null);

  async function loadLabs(): Promise<void> {
    labsState.value = 'loading';
    try {
      const result = await useConnectionStore().api().call('labs.list', {});
      labs.value = result.labs;
      labErrors.value = result.errors;
      labsError.value = null;
      labsState.value = 'loaded';
    } catch (error) {
      labsError.value = errorText(error);
      labsState.value = 'error';
    }
  }

  async function loadRecordings(): Promise<void> {
    recordingsState.value = 'loading';
    try {
      const result = await useConnectionStore().api().call('recordings.list', {});
      recordings.value = [...result.recordings].sort((a, b) =>
        b.startedAt.localeCompare(a.startedAt),
      );
      recordingErrors.value = result.errors;
      recordingsError.value = null;
      recordingsState.value = 'loaded';
    } catch (error) {
      recordingsError.value = errorText(error);
      recordingsState.value = 'error';
    }
  }

  return {
    labs,
    labErrors,
    labsState,
    labsError,
    recordings,
    recordingErrors,
    recordingsState,
    recordingsError,
    loadLabs,
    loadRecordings,
  };
});
