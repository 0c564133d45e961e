import { createPinia } from 'pinia';
import { createApp, watch } from 'vue';
import App from './App.vue';
import { ApiClient } from './api/client';
import { useConnectionStore } from './stores/connection';
import { useLiveRunStore } from './stores/live-run';
import { usePlaybackStore } from './stores/playback';
import { useTerminalsStore } from './stores/terminals';
import { routePushes } from './stores/push-router';
import './styles.css';
import '@xterm/xterm/css/xterm.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);

// One connection for the page's lifetime; it reconnects by itself.
const client = new ApiClient({ url: ApiClient.urlFor(window.location) });
const connection = useConnectionStore(pinia);
connection.attach(client);
routePushes(client);

// After every (re)connect the server has forgotten this page's subscriptions, playbacks and
// terminals: follow the run again, reopen the recording, and mark old terminals as ended.
const live = useLiveRunStore(pinia);
const playback = usePlaybackStore(pinia);
const terminals = useTerminalsStore(pinia);
watch(
  () => connection.sessions,
  (session) => {
    void live.attachToCurrent();
    if (session > 1) {
      void playback.reopen();
      terminals.connectionLost();
    }
  },
);

client.connect();
window.addEventListener('pagehide', () => client.dispose());
app.mount('#app');
