import type { ApiClient } from '../api/client';
import { useLiveRunStore } from './live-run';
import { usePassphrasesStore } from './passphrases';
import { usePlaybackStore } from './playback';
import { useTerminalsStore } from './terminals';

/** Every push goes to the stores that care about it; each ignores what is not its own. */
export function routePushes(client: ApiClient): () => void {
  const live = useLiveRunStore();
  const playback = usePlaybackStore();
  const terminals = useTerminalsStore();
  const passphrases = usePassphrasesStore();
  return client.onPush((push) => {
    switch (push.push) {
      case 'records':
        if (push.stream.kind === 'run') live.onPush(push);
        else playback.onPush(push);
        return;
      case 'run-info':
      case 'checks':
        live.onPush(push);
        return;
      case 'playback-state':
        playback.onPush(push);
        return;
      case 'terminal-data':
      case 'terminal-exit':
        terminals.onPush(push);
        return;
      case 'passphrase-request':
      case 'passphrase-request-closed':
        passphrases.onPush(push);
        return;
    }
  });
}
