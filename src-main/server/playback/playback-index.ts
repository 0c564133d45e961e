import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { RunView, type RunViewNode } from '../../api/run-view';
import type { RunViewSnapshot } from '../../api/run-view-schema';
import { RUN_FILES } from '../../record/schema';
import { RecordCursor, type PositionedRecord } from './record-cursor';

/** Run time between keyframes at first; doubled when the keyframe count hits the cap. */
export const KEYFRAME_INTERVAL_MS = 5_000;
/** Keyframes kept per recording (each a gzipped snapshot): memory stays bounded for any length. */
export const MAX_KEYFRAMES = 360;
/**
 * How late a record may be written after its time stamp and still be found by a seek: faults
 * enacted over SSH have taken close to 2 s on a loaded machine. The look-ahead is bounded in
 * records too, so a seek never reads more than a slice of the file.
 */
const LATE_RECORD_MS = 3_000;
const LATE_RECORD_SCAN = 20_000;

export interface Keyframe {
  /** Every record before `offset` is folded in; none has t_ms ≥ t_ms... of the next keyframe. */
  readonly t_ms: number;
  readonly offset: number;
  readonly snapshotGz: Buffer;
}

export interface IndexProgress {
  readonly done: boolean;
  readonly indexed_ms: number;
  readonly records: number;
  readonly faultTimes_ms: readonly number[];
}

/**
 * Index of one recording's events.ndjson, built by streaming it once: RunView keyframes every
 * few seconds of run time (with the byte offset to fold forward from), the applied faults'
 * times and the record count. Seeking is then "nearest keyframe + fold forward", and a seek
 * beyond the part indexed so far waits for the indexer.
 */
export class PlaybackIndex {
  readonly eventsPath: string;
  private readonly keyframes: Keyframe[] = [];
  private interval_ms = KEYFRAME_INTERVAL_MS;
  readonly faultTimes_ms: number[] = [];
  records = 0;
  skipped = 0;
  indexed_ms = 0;
  done = false;
  error: string | null = null;
  private waiters: { t_ms: number; resolve: () => void }[] = [];
  private cancelled = false;
  private listeners: ((p: IndexProgress) => void)[] = [];

  constructor(
    runDir: string,
    private readonly nodes: readonly RunViewNode[],
  ) {
    this.eventsPath = join(runDir, RUN_FILES.events);
    this.keyframes.push({ t_ms: 0, offset: 0, snapshotGz: pack(new RunView(nodes).snapshot()) });
  }

  onProgress(listener: (p: IndexProgress) => void): void {
    this.listeners.push(listener);
  }

  progress(): IndexProgress {
    return {
      done: this.done,
      indexed_ms: this.indexed_ms,
      records: this.records,
      faultTimes_ms: [...this.faultTimes_ms],
    };
  }

  /** Stream the file once. Yields to the event loop between chunks so the server answers. */
  async build(): Promise<void> {
    const cursor = new RecordCursor(this.eventsPath, 0);
    const view = new RunView(this.nodes);
    let next_ms = this.interval_ms;
    let sinceYield = 0;
    let lastProgress = performance.now();
    try {
      for (;;) {
        if (this.cancelled) return;
        const item = await cursor.next();
        if (item === null) break;
        const { record } = item;
        while (record.t_ms >= next_ms) {
          this.addKeyframe(next_ms, item.offset, view);
          next_ms += this.interval_ms;
        }
        view.apply(record);
        this.records++;
        if (record.type === 'fault' && record.phase === 'applied') {
          this.faultTimes_ms.push(record.t_ms);
        }
        if (record.t_ms > this.indexed_ms) this.indexed_ms = record.t_ms;
        if (++sinceYield >= 5_000) {
          sinceYield = 0;
          this.wake();
          await new Promise((r) => setImmediate(r));
          if (performance.now() - lastProgress > 1_000) {
            lastProgress = performance.now();
            this.emit();
          }
        }
      }
    } catch (err) {
      this.error = `cannot read ${this.eventsPath}: ${(err as Error).message}`;
    } finally {
      this.skipped = cursor.skipped;
      await cursor.close().catch(() => undefined);
      this.done = true;
      this.wake();
      this.emit();
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.done = true;
    this.wake();
  }

  /** Resolves once the index covers t_ms (or is complete). */
  waitFor(t_ms: number): Promise<void> {
    if (this.done || this.indexed_ms > t_ms) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ t_ms, resolve }));
  }

  /** The keyframe at or before t_ms. */
  keyframeBefore(t_ms: number): Keyframe {
    let best = this.keyframes[0] as Keyframe;
    for (const k of this.keyframes) {
      if (k.t_ms <= t_ms) best = k;
      else break;
    }
    return best;
  }

  /**
   * The view at t_ms: nearest keyframe, then fold records until the first one after t_ms;
   * then the records stamped at or before t_ms that follow it closely in the file. Records
   * are written nearly in time order, not exactly: a fault's `applied` record is stamped when
   * the fault took effect but written once enacting it finished (a SIGKILL and its exit, an
   * SSH round trip), after records stamped later. Without them a seek just past a crash would
   * show the node up. Returns the view and a cursor at the next record not folded in (for
   * play), which passes over the late ones already folded.
   */
  async viewAt(t_ms: number): Promise<{ view: RunView; cursor: RecordCursor }> {
    await this.waitFor(t_ms);
    const k = this.keyframeBefore(t_ms);
    const view = RunView.fromSnapshot(unpack(k.snapshotGz));
    const cursor = new RecordCursor(this.eventsPath, k.offset);
    for (;;) {
      const item = await cursor.peek();
      if (item === null || item.record.t_ms > t_ms) break;
      await cursor.next();
      view.apply(item.record);
    }
    const next = await cursor.peek();
    if (next !== null) {
      const late = await this.lateRecords(next.offset, t_ms);
      for (const r of late) view.apply(r.record);
      cursor.passOver(late.map((r) => r.offset));
    }
    return { view, cursor };
  }

  /**
   * Records stamped at or before t_ms among those following `offset` closely: until one
   * stamped more than LATE_RECORD_MS after t_ms, at most LATE_RECORD_SCAN records.
   */
  private async lateRecords(offset: number, t_ms: number): Promise<PositionedRecord[]> {
    const ahead = new RecordCursor(this.eventsPath, offset);
    const late: PositionedRecord[] = [];
    try {
      for (let i = 0; i < LATE_RECORD_SCAN; i++) {
        const item = await ahead.next();
        if (item === null || item.record.t_ms > t_ms + LATE_RECORD_MS) break;
        if (item.record.t_ms <= t_ms) late.push(item);
      }
    } finally {
      await ahead.close();
    }
    return late;
  }

  get keyframeCount(): number {
    return this.keyframes.length;
  }

  private addKeyframe(t_ms: number, offset: number, view: RunView): void {
    const last = this.keyframes[this.keyframes.length - 1];
    // Several empty intervals in a row share one state: keep one keyframe for them.
    if (last !== undefined && last.offset === offset) return;
    this.keyframes.push({ t_ms, offset, snapshotGz: pack(view.snapshot()) });
    if (this.keyframes.length > MAX_KEYFRAMES) {
      // Thin out: keep every other keyframe (and the first), double the spacing.
      const kept = this.keyframes.filter((_, i) => i % 2 === 0);
      this.keyframes.length = 0;
      this.keyframes.push(...kept);
      this.interval_ms *= 2;
    }
  }

  private wake(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.done || this.indexed_ms > w.t_ms) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private emit(): void {
    const p = this.progress();
    for (const l of this.listeners) l(p);
  }
}

function pack(snapshot: RunViewSnapshot): Buffer {
  return gzipSync(JSON.stringify(snapshot), { level: 1 });
}

function unpack(gz: Buffer): RunViewSnapshot {
  return JSON.parse(gunzipSync(gz).toString('utf8')) as RunViewSnapshot;
}
