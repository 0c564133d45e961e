import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { ApiResult } from '../../src-main/api/api-schema';
import { ApiCallError, errorText } from '../api/api-call-error';
import type { ApiClient, ConnectionStatus } from '../api/client';
import { API_VERSION } from '../api/contract';

export type ServerInfo = ApiResult<'hello'>;

/** Protocol errors kept for the banner; older ones are dropped. */
const MAX_PROTOCOL_ERRORS = 5;

/**
 * The connection to the orchestrator: its status for the banner, what the server said about
 * itself (hello), and the client every other store calls through.
 */
export const useConnectionStore = defineStore('connection', () => {
  const client = shallowRef<ApiClient | null>(null);
  const status = ref<ConnectionStatus>({
    state: 'connecting',
    reason: null,
    attempt: 0,
    nextAttemptAt_ms: null,
  });
  const server = ref<ServerInfo | null>(null);
  const helloError = ref<string | null>(null);
  const protocolErrors = ref<string[]>([]);
  /** Bumped after every successful (re)connect + hello, so stores can resubscribe. */
  const sessions = ref(0);

  function attach(apiClient: ApiClient): () => void {
    client.value = markRaw(apiClient);
    const offStatus = apiClient.onStatus((s) => {
      status.value = s;
      if (s.state === 'open') void greet(apiClient);
    });
    const offProtocol = apiClient.onProtocolError((message) => {
      protocolErrors.value = [...protocolErrors.value, message].slice(-MAX_PROTOCOL_ERRORS);
    });
    status.value = apiClient.connection;
    return () => {
      offStatus();
      offProtocol();
    };
  }

  async function greet(apiClient: ApiClient): Promise<void> {
    try {
      const hello = await apiClient.call('hello', { apiVersion: API_VERSION });
      if (hello.apiVersion !== API_VERSION) {
        helloError.value = `The orchestrator speaks api version ${hello.apiVersion}, this page ${API_VERSION}; reload the page (or restart \`faultlab serve\` from the same checkout).`;
      } else {
        helloError.value = null;
      }
      server.value = hello;
      sessions.value++;
    } catch (error) {
      helloError.value = `The orchestrator did not answer hello: ${errorText(error)}`;
    }
  }

  /** The client, or an error a caller can show when the page was started without one. */
  function api(): ApiClient {
    const c = client.value;
    if (c === null) {
      throw new ApiCallError(
        '(any)',
        'disconnected',
        'the page has no api client (main.ts did not attach one)',
      );
    }
    return c;
  }

  function dismissProtocolErrors(): void {
    protocolErrors.value = [];
  }

  return {
    status,
    server,
    helloError,
    protocolErrors,
    sessions,
    attach,
    api,
    dismissProtocolErrors,
  };
});
