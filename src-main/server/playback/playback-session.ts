import type { ApiResult, RecordingSummary } from '../../api/api-schema';
import type { RunView } from '../../api/run-view';
import type { CheckResult, RunManifest, RunRecord } from '../../record/schema';
import {
  isTraceGap,
  messageEventOf,
  pairMessages,
  type MessageEvent,
} from '../messages/message-pairing';
import type { PushTarget } from '../push-target';
import { PlaybackIndex } from './playback-index';
import { RecordCursor } from './record-cursor';

/** Playback pushes a batch this often. */
export const PLAY_TICK_MS = 100;
/** Records per tick above which the player jumps (snapshot) instead of streaming them. */
export const MAX_RECORDS_PER_TICK = 20_000;
/** How long playback.open waits for a full index before answering with a partial one. */
export const OPEN_WAIT_MS = 1_500;
/** Message events scanned per messages.window call in a recording. */
export const MAX_SCANNED_MESSAGE_EVENTS = 500_000;

/**
 * One opened recording on one connection: the index, the playhead, and play/pause/seek that
 * stream the recording's own records as `records` pushes, so the page folds them with the
 * same RunView as a live run.
 */
export class PlaybackSession {
  readonly index: PlaybackIndex;
  private playhead_ms = 0;
  private speed = 1;
  private timer: NodeJS.Timeout | null = null;
  private cursor: RecordCursor | null = null;
  /** The next push must carry a snapshot (after a jump, or when the client fell behind). */
  private resync = false;
  private view: RunView | null = null;
  private busy = false;
  private closed = false;

  constructor(
    readonly playbackId: string,
    readonly runDir: string,
    readonly manifest: RunManifest,
    readonly summary: RecordingSummary,
    readonly checks: CheckResult[],
    private readonly target: PushTarget,
  ) {
    this.index = new PlaybackIndex(runDir, manifest.testbed.nodes);
    this.index.onProgress((p) => {
      if (!this.closed) this.pushState({ index: { ...p, faultTimes_ms: [...p.faultTimes_ms] } });
    });
  }

  get duration_ms(): number {
    return this.manifest.duration_ms ?? Math.max(this.index.indexed_ms, 0);
  }

  async open(): Promise<ApiResult<'playback.open'>> {
    void this.index.build();
    await Promise.race([
      this.index.waitFor(Number.POSITIVE_INFINITY),
      new Promise((r) => setTimeout(r, OPEN_WAIT_MS).unref()),
    ]);
    const { view, cursor } = await this.index.viewAt(0);
    this.replaceCursor(cursor);
    this.view = view;
    view.setChecks(this.checks);
    return {
      info: {
        playbackId: this.playbackId,
        recording: this.summary,
        nodes: this.manifest.testbed.nodes.map((n) => ({ id: n.id, role: n.role })),
        faultTimes_ms: [...this.index.faultTimes_ms],
        records: this.index.records,
        checks: this.checks,
      },
      snapshot: view.snapshot(),
    };
  }

  async seek(t_ms: number): Promise<ApiResult<'playback.seek'>> {
    const { view, cursor } = await this.index.viewAt(t_ms);
    view.setChecks(this.checks);
    this.replaceCursor(cursor);
    this.view = view;
    this.playhead_ms = t_ms;
    this.resync = false;
    this.pushState();
    return { snapshot: view.snapshot() };
  }

  play(speed: number): void {
    this.speed = speed;
    if (this.timer === null) {
      this.timer = setInterval(() => void this.tick(), PLAY_TICK_MS);
    }
    this.pushState();
  }

  pause(): number {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.pushState();
    return this.playhead_ms;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.index.cancel();
    void this.cursor?.close().catch(() => undefined);
    this.cursor = null;
  }

  /** Messages in [from_ms, to_ms]: scan from the keyframe before from_ms to a bit past to_ms. */
  async messageWindow(
    from_ms: number,
    to_ms: number,
    limit: number,
  ): Promise<ApiResult<'messages.window'>> {
    await this.index.waitFor(to_ms);
    const k = this.index.keyframeBefore(from_ms);
    const cursor = new RecordCursor(this.index.eventsPath, k.offset);
    const events: MessageEvent[] = [];
    let gaps = 0;
    let traced = false;
    // A receipt can come a little after the window's last send: read a second past it.
    const until_ms = to_ms + 1_000;
    try {
      for (;;) {
        const item = await cursor.next();
        if (item === null || item.record.t_ms > until_ms) break;
        const e = messageEventOf(item.record);
        if (e !== null) {
          traced = true;
          events.push(e);
          if (events.length >= MAX_SCANNED_MESSAGE_EVENTS) {
            gaps++;
            break;
          }
        } else if (isTraceGap(item.record) && item.record.t_ms >= from_ms) {
          gaps++;
        }
      }
    } finally {
      await cursor.close();
    }
    const { messages, truncated } = pairMessages(events, from_ms, to_ms, limit);
    return { messages, truncated, traced, gaps };
  }

  // ------------------------------------------------------------------ playing

  private async tick(): Promise<void> {
    if (this.busy || this.closed || this.cursor === null || this.view === null) return;
    this.busy = true;
    try {
      const target_ms = this.playhead_ms + PLAY_TICK_MS * this.speed;
      await this.index.waitFor(target_ms);
      const records: RunRecord[] = [];
      let jumped = false;
      for (;;) {
        const item = await this.cursor.peek();
        if (item === null || item.record.t_ms > target_ms) break;
        if (records.length >= MAX_RECORDS_PER_TICK) {
          jumped = true;
          break;
        }
        await this.cursor.next();
        records.push(item.record);
        this.view.apply(item.record);
      }
      if (this.closed) return;
      if (jumped) {
        // Too fast to stream: jump to the target and send the state there.
        const { view, cursor } = await this.index.viewAt(target_ms);
        view.setChecks(this.checks);
        this.replaceCursor(cursor);
        this.view = view;
        this.resync = true;
        records.length = 0;
      }
      const ended = (await this.cursor.peek()) === null && this.index.done;
      this.playhead_ms = ended ? Math.max(target_ms, this.duration_ms) : target_ms;
      this.sendBatch(records);
      if (ended) {
        this.pause();
        this.pushState({ ended: true });
      }
    } finally {
      this.busy = false;
    }
  }

  private sendBatch(records: RunRecord[]): void {
    const stream = { kind: 'playback' as const, playbackId: this.playbackId };
    if (this.target.congested()) {
      if (records.length > 0) this.resync = true;
      return;
    }
    if (this.resync && this.view !== null) {
      this.resync = false;
      this.target.push({
        push: 'records',
        stream,
        records: [],
        playhead_ms: this.playhead_ms,
        snapshot: this.view.snapshot(),
      });
      return;
    }
    this.target.push({ push: 'records', stream, records, playhead_ms: this.playhead_ms });
  }

  private replaceCursor(cursor: RecordCursor): void {
    void this.cursor?.close().catch(() => undefined);
    this.cursor = cursor;
  }

  private pushState(
    extra: { ended?: boolean; index?: ReturnType<PlaybackIndex['progress']> } = {},
  ): void {
    this.target.push({
      push: 'playback-state',
      playbackId: this.playbackId,
      playing: this.timer !== null,
      speed: this.speed,
      playhead_ms: this.playhead_ms,
      ended: extra.ended ?? false,
      ...(extra.index !== undefined
        ? { index: { ...extra.index, faultTimes_ms: [...extra.index.faultTimes_ms] } }
        : {}),
    });
  }
}
