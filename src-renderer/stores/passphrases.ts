import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { ApiPush } from '../../src-main/api/api-schema';
import { errorText } from '../api/api-call-error';
import { useConnectionStore } from './connection';

export interface PassphraseQuestion {
  readonly requestId: string;
  readonly keyPath: string;
  readonly attempt: number;
}

/** Questions shown at once; the server bounds them too. */
const MAX_QUESTIONS = 8;

/**
 * Passphrase questions from the orchestrator's SSH connects (an encrypted identity file), shown
 * one at a time in a dialog. The passphrase goes straight into the answer and is not kept here.
 */
export const usePassphrasesStore = defineStore('passphrases', () => {
  const questions = ref<PassphraseQuestion[]>([]);
  const error = ref<string | null>(null);

  // A lost connection takes this page's questions with it; on reconnect the server shows the
  // ones still open (a run's, asked of every page) again.
  const connection = useConnectionStore();
  watch(
    () => connection.status.state,
    (state) => {
      if (state !== 'open') questions.value = [];
    },
  );

  function onPush(push: ApiPush): void {
    if (push.push === 'passphrase-request') {
      const { requestId, keyPath, attempt } = push;
      if (questions.value.some((q) => q.requestId === requestId)) return;
      questions.value = [...questions.value, { requestId, keyPath, attempt }].slice(-MAX_QUESTIONS);
    } else if (push.push === 'passphrase-request-closed') {
      questions.value = questions.value.filter((q) => q.requestId !== push.requestId);
    }
  }

  async function answer(requestId: string, passphrase: string | null): Promise<void> {
    error.value = null;
    questions.value = questions.value.filter((q) => q.requestId !== requestId);
    try {
      await connection.api().call('ssh.passphrase', { requestId, passphrase });
    } catch (e) {
      error.value = `The passphrase could not be delivered: ${errorText(e)}`;
    }
  }

  return { questions, error, onPush, answer };
});
