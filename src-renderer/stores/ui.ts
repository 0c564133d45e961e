import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ViewName = 'setup' | 'live' | 'recordings' | 'playback' | 'messages' | 'terminal';

/** Which view is on screen, and cross-view hints (a time highlighted from the timeline). */
export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>('setup');
  /** A time (ms since run start) picked in the live timeline, marked on the charts. */
  const highlight_ms = ref<number | null>(null);
  /** Where the message-flow view takes its messages from. */
  const messageSource = ref<'live' | 'playback'>('live');

  function go(next: ViewName): void {
    view.value = next;
  }

  return { view, highlight_ms, messageSource, go };
});
