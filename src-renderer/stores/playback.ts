import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ApiPush, RecordingInfo } from '../../src-main/api/api-schema';
import { errorText } from '../api/api-call-error';
import { debounce } from '../lib/debounce';
import { clampTime } from '../lib/scrubber-math';
import { useConnectionStore } from './connection';
import { createRunViewHolder } from './run-view-holder';

/** Dragging the scrubber fires input events at frame rate; the server rebuilds per seek. */
const SEEK_DEBOUNCE_MS = 120;

/**
 * A recording played back: the RunView at the playhead (from playback.seek snapshots, then
 * streamed records while playing), and the transport (play, pause, speed, seek).
 */
export const usePlaybackStore = defineStore('playback', () => {
  const holder = createRunViewHolder();
  const info = ref<RecordingInfo | null>(null);
  const loading = ref<string | null>(null);
  const error = ref<string | null>(null);
  const playing = ref(false);
  const ended = ref(false);
  const speed = ref(1);
  const playhead_ms = ref(0);
  const seeking = ref(false);
  /** Bumped by every seek so a slow answer to an older one is dropped. */
  let seekGeneration = 0;

  async function open(recordingId: string): Promise<boolean> {
    await close();
    loading.value = recordingId;
    error.value = null;
    try {
      const result = await useConnectionStore()
        .api()
        .call('playback.open', { recordingId }, { timeout_ms: 60_000 });
      info.value = result.info;
      holder.reset(result.snapshot);
      playhead_ms.value = result.snapshot.t_ms;
      playing.value = false;
      ended.value = false;
      return true;
    } catch (e) {
      error.value = `Could not open recording ${recordingId}: ${errorText(e)}`;
      return false;
    } finally {
      loading.value = null;
    }
  }

  function duration_ms(): number {
    return info.value?.recording.duration_ms ?? holder.view.value?.time_ms ?? 0;
  }

  async function play(): Promise<void> {
    const id = info.value?.playbackId;
    if (id === undefined) return;
    error.value = null;
    try {
      if (ended.value || playhead_ms.value >= duration_ms() - 1) await seekNow(0);
      await useConnectionStore()
        .api()
        .call('playback.play', { playbackId: id, speed: speed.value });
      playing.value = true;
      ended.value = false;
    } catch (e) {
      error.value = `Play failed: ${errorText(e)}`;
    }
  }

  async function pause(): Promise<void> {
    const id = info.value?.playbackId;
    if (id === undefined) return;
    try {
      const result = await useConnectionStore().api().call('playback.pause', { playbackId: id });
      playing.value = false;
      if (!seeking.value) playhead_ms.value = result.playhead_ms;
    } catch (e) {
      error.value = `Pause failed: ${errorText(e)}`;
    }
  }

  async function setSpeed(next: number): Promise<void> {
    speed.value = next;
    if (playing.value) await play();
  }

  async function runSeek(t_ms: number): Promise<void> {
    const id = info.value?.playbackId;
    if (id === undefined) return;
    const generation = ++seekGeneration;
    seeking.value = true;
    const resume = playing.value;
    try {
      if (resume) await pause();
      const { snapshot } = await useConnectionStore()
        .api()
        .call('playback.seek', { playbackId: id, t_ms });
      if (generation !== seekGeneration) return;
      holder.reset(snapshot);
      playhead_ms.value = t_ms;
      ended.value = false;
      seeking.value = false;
      if (resume) await play();
    } catch (e) {
      if (generation === seekGeneration) error.value = `Seek to ${t_ms} ms failed: ${errorText(e)}`;
    } finally {
      if (generation === seekGeneration) seeking.value = false;
    }
  }

  const debouncedSeek = debounce((t: number) => void runSeek(t), SEEK_DEBOUNCE_MS);

  /** For dragging: the playhead moves at once, the server is asked once the drag settles. */
  function seek(t_ms: number): void {
    const t = clampTime(t_ms, duration_ms());
    playhead_ms.value = t;
    seeking.value = true;
    debouncedSeek(t);
  }

  /** For exact jumps (time field, next/previous fault). */
  async function seekNow(t_ms: number): Promise<void> {
    debouncedSeek.cancel();
    const t = clampTime(t_ms, duration_ms());
    playhead_ms.value = t;
    await runSeek(t);
  }

  /**
   * After a reconnect the server has forgotten this page's playback: open the recording again
   * and return to where the operator was.
   */
  async function reopen(): Promise<void> {
    const current = info.value;
    if (current === null) return;
    const at = playhead_ms.value;
    info.value = null;
    holder.clear();
    playing.value = false;
    if (await open(current.recording.recordingId)) await seekNow(at);
  }

  function onPush(push: ApiPush): void {
    const id = info.value?.playbackId;
    if (id === undefined) return;
    if (push.push === 'records') {
      if (push.stream.kind !== 'playback' || push.stream.playbackId !== id) return;
      // Records streamed before a seek took effect belong to the old position.
      if (seeking.value) return;
      if (push.snapshot !== undefined) holder.reset(push.snapshot);
      holder.apply(push.records);
      if (push.playhead_ms !== undefined) playhead_ms.value = push.playhead_ms;
    } else if (push.push === 'playback-state' && push.playbackId === id) {
      playing.value = push.playing;
      ended.value = push.ended;
      speed.value = push.speed;
      if (!seeking.value) playhead_ms.value = push.playhead_ms;
      // A long recording is indexed after open answered: complete its fault marks and counts.
      if (push.index !== undefined && info.value !== null) {
        info.value = {
          ...info.value,
          faultTimes_ms: push.index.faultTimes_ms,
          records: push.index.records,
        };
      }
    }
  }

  async function close(): Promise<void> {
    debouncedSeek.cancel();
    const id = info.value?.playbackId;
    info.value = null;
    holder.clear();
    playing.value = false;
    if (id === undefined) return;
    try {
      await useConnectionStore().api().call('playback.close', { playbackId: id });
    } catch {
      // The server drops playbacks of a closed connection anyway; nothing for the operator to do.
    }
  }

  return {
    view: holder.view,
    version: holder.version,
    info,
    loading,
    error,
    playing,
    ended,
    speed,
    playhead_ms,
    seeking,
    duration_ms,
    open,
    play,
    pause,
    setSpeed,
    seek,
    seekNow,
    onPush,
    close,
    reopen,
  };
});
