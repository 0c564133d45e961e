import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { describeIssues } from '../validation/issue-text';
import { writeJsonAtomic } from './atomic-json';
import { RecordingFileError } from './file-errors';
import {
  checkReportSchema,
  historyEntrySchema,
  runManifestSchema,
  runRecordSchema,
  RUN_FILES,
  type CheckReport,
  type RecordedHistoryEntry,
  type RunManifest,
  type RunRecord,
} from './schema';

export interface RecordingWriterOptions {
  /** Buffered lines reach the file at least this often (ARCHITECTURE.md: "flushed often"). */
  readonly flushInterval_ms?: number;
  /** Written data is fsynced at least this often, and on close. */
  readonly syncInterval_ms?: number;
  /** A file's buffer larger than this is flushed at once instead of waiting for the timer. */
  readonly flushAt_bytes?: number;
  /**
   * Hard bound on what waits in memory when the disk cannot keep up. Lines beyond it are
   * dropped and counted, and a `note` record says so; sequence-integrity then shows the gap.
   */
  readonly maxBuffered_bytes?: number;
  /** Validate every line against the schema before buffering it (a bad line would make the recording unreadable). */
  readonly validate?: boolean;
}

const DEFAULTS = {
  flushInterval_ms: 200,
  syncInterval_ms: 1_000,
  flushAt_bytes: 1 << 20,
  maxBuffered_bytes: 64 << 20,
  validate: true,
} as const;

export interface RecordingWriterStats {
  readonly records: number;
  readonly historyEntries: number;
  readonly bufferedBytes: number;
  readonly droppedLines: number;
}

/** One append-only NDJSON file with its in-memory buffer of whole lines. */
class NdjsonSink {
  private pending: string[] = [];
  pendingBytes = 0;
  /** Bytes written since the last fsync. */
  private unsynced = false;
  /** Bumped by every write, so a sync that ran alongside a write does not claim to cover it. */
  private writes = 0;
  private lastSync_ms = performance.now();
  dropped = 0;
  lines = 0;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  push(line: string, maxBuffered_bytes: number): boolean {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (this.pendingBytes + bytes > maxBuffered_bytes) {
      this.dropped++;
      return false;
    }
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.lines++;
    return true;
  }

  /** Write what is buffered (whole lines only) to the file; no fsync. */
  async write(): Promise<void> {
    if (this.pending.length > 0) {
      const data = Buffer.from(this.pending.join(''), 'utf8');
      this.pending = [];
      this.pendingBytes = 0;
      try {
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await this.handle.write(data, offset, data.length - offset);
          offset += bytesWritten;
        }
      } catch (err) {
        throw new RecordingFileError(err, 'appending to', this.path);
      }
      this.unsynced = true;
      this.writes++;
    }
  }

  /** fsync what was written, when `syncInterval_ms` has passed since the last one or forced. */
  async sync(syncInterval_ms: number, force: boolean): Promise<void> {
    const now = performance.now();
    if (!this.unsynced || (!force && now - this.lastSync_ms < syncInterval_ms)) return;
    const covered = this.writes;
    try {
      await this.handle.datasync();
    } catch (err) {
      throw new RecordingFileError(err, 'syncing', this.path);
    }
    if (this.writes === covered) this.unsynced = false;
    this.lastSync_ms = now;
  }

  get idle(): boolean {
    return this.pending.length === 0 && !this.unsynced;
  }

  async close(): Promise<void> {
    try {
      await this.handle.close();
    } catch (err) {
      throw new RecordingFileError(err, 'closing', this.path);
    }
  }
}

/**
 * Writes one run directory (schema.ts): run.json atomically, events.ndjson and history.ndjson
 * appended in whole lines from a bounded buffer that a timer flushes every 200 ms and fsyncs
 * about every second (beside the writes, never in their way), so a crash of the machine loses
 * at most the last moments and tears at most one line; a crash of this process loses nothing
 * that was flushed.
 *
 * Appends are synchronous and never wait for the disk. A write error is kept and thrown by
 * the next append, flush, manifest update or close, with the file named and what to do.
 */
export class RecordingWriter {
  private readonly options: Required<RecordingWriterOptions>;
  private readonly events: NdjsonSink;
  private readonly history: NdjsonSink;
  private manifestValue: RunManifest;
  private timer: NodeJS.Timeout | null;
  /** One flush or manifest write at a time, in call order. */
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  /** The periodic fsync in flight, if any: it runs beside the write chain, not in it. */
  private syncing: Promise<void> | null = null;
  private closed = false;
  private lastT_ms = 0;
  private reportedDrops = 0;

  private constructor(
    readonly runDir: string,
    manifest: RunManifest,
    events: NdjsonSink,
    history: NdjsonSink,
    options: Required<RecordingWriterOptions>,
  ) {
    this.manifestValue = manifest;
    this.events = events;
    this.history = history;
    this.options = options;
    this.timer = setInterval(() => {
      if (this.events.idle && this.history.idle) return;
      this.flush()
        .then(() => this.syncWhenDue())
        .catch(() => undefined); // kept in `failure`, thrown by the next call
    }, options.flushInterval_ms);
    // The owner closes the writer; a forgotten one must not keep the process alive.
    this.timer.unref();
  }

  /**
   * Create `runDir` (and parents), write run.json and open the two NDJSON files for append.
   * Refuses a directory that already holds a recording: a recording is never overwritten.
   */
  static async create(
    runDir: string,
    manifest: RunManifest,
    options: RecordingWriterOptions = {},
  ): Promise<RecordingWriter> {
    const resolved: Required<RecordingWriterOptions> = { ...DEFAULTS, ...options };
    if (!(resolved.flushInterval_ms > 0) || !(resolved.syncInterval_ms > 0)) {
      throw new Error('RecordingWriter: flushInterval_ms and syncInterval_ms must be positive');
    }
    const valid = parseOrThrow(runManifestSchema, manifest, `${RUN_FILES.manifest} manifest`);
    try {
      await mkdir(runDir, { recursive: true });
    } catch (err) {
      throw new RecordingFileError(err, 'creating the run directory', runDir);
    }
    const manifestPath = join(runDir, RUN_FILES.manifest);
    const existing = await stat(manifestPath).catch(() => null);
    if (existing !== null) {
      throw new Error(
        `${manifestPath} already exists: a recording is never overwritten; choose another run directory`,
      );
    }
    await writeJsonAtomic(manifestPath, valid);
    const events = await openAppend(join(runDir, RUN_FILES.events));
    let history: NdjsonSink;
    try {
      history = await openAppend(join(runDir, RUN_FILES.history));
    } catch (err) {
      await events.close().catch(() => undefined);
      throw err;
    }
    return new RecordingWriter(runDir, valid, events, history, resolved);
  }

  get manifest(): RunManifest {
    return this.manifestValue;
  }

  /** Buffer one record for events.ndjson. Throws if an earlier write failed or the writer is closed. */
  appendRecord(record: RunRecord): void {
    this.assertWritable('appendRecord');
    if (this.options.validate) parseOrThrow(runRecordSchema, record, 'run record');
    this.lastT_ms = Math.max(this.lastT_ms, record.t_ms);
    this.push(this.events, record);
  }

  /** Buffer one client history entry for history.ndjson. */
  appendHistory(entry: RecordedHistoryEntry): void {
    this.assertWritable('appendHistory');
    if (this.options.validate) parseOrThrow(historyEntrySchema, entry, 'history entry');
    this.push(this.history, entry);
  }

  /**
   * Write everything buffered to the files now. Once it resolves the lines are in the page
   * cache, which keeps them if this process dies (a fault journal line needs no more); the
   * fsync follows within about a second, beside this path, so a caller waiting here never waits
   * for the disk. Rejects with the first write error.
   */
  flush(): Promise<void> {
    if (this.closed) return this.enqueue(() => Promise.resolve());
    return this.enqueue(() => this.writeOut());
  }

  /** Merge `patch` into run.json and rewrite it atomically (e.g. endedAt, duration_ms, clockOffsets). */
  updateManifest(patch: Partial<RunManifest>): Promise<void> {
    this.assertWritable('updateManifest');
    const next = parseOrThrow(
      runManifestSchema,
      { ...this.manifestValue, ...patch },
      `${RUN_FILES.manifest} manifest update`,
    );
    this.manifestValue = next;
    return this.enqueue(() => writeJsonAtomic(join(this.runDir, RUN_FILES.manifest), next));
  }

  /** Write checks.json atomically. Allowed after close: checks often run on a finished recording. */
  writeChecks(report: CheckReport): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return this.enqueue(() => writeChecksFile(this.runDir, report));
  }

  stats(): RecordingWriterStats {
    return {
      records: this.events.lines,
      historyEntries: this.history.lines,
      bufferedBytes: this.events.pendingBytes + this.history.pendingBytes,
      droppedLines: this.events.dropped + this.history.dropped,
    };
  }

  /** Flush, fsync and close both files, stop the timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) {
      await this.chain;
      return;
    }
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    let flushError: unknown = null;
    try {
      await this.syncing;
      await this.enqueue(async () => {
        await this.writeOut();
        await this.events.sync(0, true);
        await this.history.sync(0, true);
      });
    } catch (err) {
      flushError = err;
    }
    const closing = await Promise.allSettled([this.events.close(), this.history.close()]);
    if (flushError !== null) throw flushError;
    for (const result of closing) if (result.status === 'rejected') throw result.reason;
  }

  private push(sink: NdjsonSink, value: unknown): void {
    const line = `${JSON.stringify(value)}\n`;
    sink.push(line, this.options.maxBuffered_bytes);
    if (sink.pendingBytes >= this.options.flushAt_bytes) {
      this.flush().catch(() => undefined); // kept in `failure`
    }
  }

  /** Start an fsync of both files if one is due and none is running. */
  private syncWhenDue(): void {
    if (this.syncing !== null || this.closed) return;
    const interval = this.options.syncInterval_ms;
    this.syncing = Promise.all([
      this.events.sync(interval, false),
      this.history.sync(interval, false),
    ])
      .then(() => undefined)
      .catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        this.syncing = null;
      });
  }

  private async writeOut(): Promise<void> {
    const dropped = this.events.dropped + this.history.dropped;
    if (dropped > this.reportedDrops) {
      const note: RunRecord = {
        t_ms: this.lastT_ms,
        type: 'note',
        text:
          `recording writer dropped ${String(dropped - this.reportedDrops)} line(s) ` +
          `(events ${String(this.events.dropped)}, history ${String(this.history.dropped)} in total): ` +
          `the disk could not keep up with ${String(this.options.maxBuffered_bytes)} bytes buffered`,
      };
      this.reportedDrops = dropped;
      this.events.push(`${JSON.stringify(note)}\n`, Number.POSITIVE_INFINITY);
    }
    await this.events.write();
    await this.history.write();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => {
      if (this.failure !== null) throw this.failure;
      return step();
    });
    this.chain = run.catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
    return run;
  }

  private assertWritable(what: string): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) {
      throw new Error(`RecordingWriter.${what}: the recording in ${this.runDir} is already closed`);
    }
  }
}

/** Write checks.json of a run directory atomically (the writer may be long closed). */
export async function writeChecksFile(runDir: string, report: CheckReport): Promise<void> {
  const valid = parseOrThrow(checkReportSchema, report, RUN_FILES.checks);
  await writeJsonAtomic(join(runDir, RUN_FILES.checks), valid);
}

async function openAppend(path: string): Promise<NdjsonSink> {
  try {
    return new NdjsonSink(path, await open(path, 'a', 0o644));
  } catch (err) {
    throw new RecordingFileError(err, 'opening for append', path);
  }
}

/**
 * Lines are validated before they are buffered: one invalid line in the middle of a file
 * makes the whole recording unreadable, so it is a bug to stop at its source.
 */
function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const shown = JSON.stringify(value)?.slice(0, 300) ?? String(value);
  throw new Error(
    `RecordingWriter: invalid ${what} (${describeIssues(result.error.issues, value).join('; ')}); ` +
      `this is a bug in the code that produced it: ${shown}`,
  );
}
