import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { readStateLog } from './state-log-reader';

export type Durability = 'fsync' | 'write' | 'memory';

export const STATE_LOG = 'state.log';
export const STATE_LOG_TMP = 'state.log.tmp';

export interface DurableStoreOptions {
  /** Compact once the file is larger than both of these… */
  readonly compactMin_bytes?: number;
  /** …and this many times the size of the live data. */
  readonly compactFactor?: number;
}

/** What the store did, for tests and telemetry. */
export interface DurableStoreStats {
  /** Group-commit rounds written. */
  writes: number;
  /** fdatasync calls (fsync mode only). */
  syncs: number;
  compactions: number;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * A replica's stable storage: an append-only log of JSON lines `{k, v}` (set) and
 * `{k, d: 1}` (delete) in `<workDir>/state.log`, replayed on open (last line for a key wins).
 *
 * Group commit: `set` only appends to the current batch; `flush` writes the batch with one
 * write and (fsync mode) one fdatasync. Callers that flush while a round is on the disk share
 * the next round, so N concurrent flushes cost about two fsyncs, not N.
 *
 * Compaction rewrites the live keys to `state.log.tmp`, syncs it and renames it over the log
 * (a crash at any point leaves either the old or the new log, both complete).
 */
export class DurableStore {
  readonly stats: DurableStoreStats = { writes: 0, syncs: 0, compactions: 0 };
  /** Live data: key → its serialized log line (what compaction writes). */
  private readonly live = new Map<string, string>();
  /** Memory mode only: key → the value as given. */
  private readonly memory = new Map<string, unknown>();
  private liveBytes = 0;
  private fileBytes: number;
  private batch: string[] = [];
  private inFlight: Promise<void> | null = null;
  private next: Deferred | null = null;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly mode: Durability,
    /** What the log held when it was opened (empty in memory mode). */
    readonly loaded: ReadonlyMap<string, unknown>,
    /** Problems found while replaying (e.g. a torn last line), for the agent log. */
    readonly warnings: readonly string[],
    private fh: FileHandle | null,
    fileBytes: number,
    private readonly compactMin_bytes: number,
    private readonly compactFactor: number,
  ) {
    this.fileBytes = fileBytes;
  }

  static async open(
    dir: string,
    mode: Durability,
    options: DurableStoreOptions = {},
  ): Promise<DurableStore> {
    const compactMin = options.compactMin_bytes ?? 64 * 1024 * 1024;
    const factor = options.compactFactor ?? 8;
    if (mode === 'memory') {
      return new DurableStore(dir, mode, new Map(), [], null, 0, compactMin, factor);
    }
    const path = join(dir, STATE_LOG);
    // A leftover tmp is an interrupted compaction; the log it was meant to replace is intact.
    await rm(join(dir, STATE_LOG_TMP), { force: true });
    const replay = await readStateLog(path);
    const fh = await open(path, 'a', 0o600);
    if (replay.validBytes < replay.fileBytes) {
      // Cut the torn tail, or the next append would glue onto it and corrupt a whole line.
      await fh.truncate(replay.validBytes);
    }
    if (mode === 'fsync') await fh.datasync();
    const store = new DurableStore(
      dir,
      mode,
      replay.values,
      replay.warnings,
      fh,
      replay.validBytes,
      compactMin,
      factor,
    );
    for (const [k, line] of replay.lines) store.setLive(k, line);
    return store;
  }

  /** Record `key = value` (`undefined` deletes) in the current batch; durable after `flush`. */
  set(key: string, value: unknown): void {
    if (this.closed) throw new Error(`durable store in ${this.dir} is closed; cannot set "${key}"`);
    if (this.mode === 'memory') {
      // Nothing is ever written or read back in memory mode: serializing every value (a PBFT
      // slot holds its whole batch, persisted several times) was a large share of a replica's
      // CPU. The value is kept as is; stacks persist fresh objects and never mutate them.
      if (value === undefined) this.memory.delete(key);
      else this.memory.set(key, value);
      return;
    }
    let line: string;
    if (value === undefined) {
      line = JSON.stringify({ k: key, d: 1 });
    } else {
      try {
        line = JSON.stringify({ k: key, v: value });
      } catch (err) {
        throw new Error(`persisted value for "${key}" is not JSON-serializable: ${String(err)}`);
      }
    }
    this.setLive(key, value === undefined ? null : line);
    this.batch.push(line);
  }

  /** The live value of a key (parsed from its log line; for tests and diagnostics). */
  get(key: string): unknown {
    if (this.mode === 'memory') return structuredCopy(this.memory.get(key));
    const line = this.live.get(key);
    return line === undefined ? undefined : (JSON.parse(line) as { v: unknown }).v;
  }

  keys(): string[] {
    return Array.from((this.mode === 'memory' ? this.memory : this.live).keys());
  }

  /** Whether `flush` can ever have to wait (false in memory mode: nothing goes to disk). */
  get writes(): boolean {
    return this.mode !== 'memory';
  }

  /**
   * Make every `set` so far durable. Resolves when a round that contains them is written
   * (and synced in fsync mode); rejects if the disk failed — after which the store refuses
   * everything, because a replica must not act on state it could not save.
   */
  flush(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.mode === 'memory') return Promise.resolve();
    if (this.batch.length === 0) {
      // Nothing new: wait for the round on the disk, which may hold this caller's sets.
      return this.inFlight === null ? Promise.resolve() : this.inFlight.then(() => this.check());
    }
    if (this.next === null) this.next = deferred();
    const promise = this.next.promise;
    if (this.inFlight === null) this.startRound();
    return promise;
  }

  /** Flush what is pending and close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
      while (this.inFlight !== null) await this.inFlight;
    } finally {
      this.closed = true;
      await this.fh?.close();
      this.fh = null;
    }
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private setLive(key: string, line: string | null): void {
    const old = this.live.get(key);
    if (old !== undefined) this.liveBytes -= old.length + 1;
    if (line === null) {
      this.live.delete(key);
    } else {
      this.live.set(key, line);
      this.liveBytes += line.length + 1;
    }
  }

  private startRound(): void {
    const waiters = this.next as Deferred;
    this.next = null;
    const data = Buffer.from(this.batch.join('\n') + '\n', 'utf8');
    this.batch = [];
    const round = this.writeRound(data).then(
      () => waiters.resolve(),
      (err: unknown) => {
        this.failure = new Error(
          `durable store: writing ${join(this.dir, STATE_LOG)} failed: ${String(err)}; ` +
            'the replica cannot guarantee what it promised and must stop (check the disk)',
        );
        waiters.reject(this.failure);
        this.next?.reject(this.failure);
        this.next = null;
      },
    );
    this.inFlight = round.finally(() => {
      this.inFlight = null;
      if (this.next !== null && this.failure === null) this.startRound();
    });
  }

  private async writeRound(data: Buffer): Promise<void> {
    const fh = this.fh as FileHandle;
    await fh.write(data);
    this.fileBytes += data.length;
    this.stats.writes++;
    if (this.mode === 'fsync') {
      await fh.datasync();
      this.stats.syncs++;
    }
    if (this.fileBytes > Math.max(this.compactMin_bytes, this.compactFactor * this.liveBytes)) {
      await this.compact();
    }
  }

  private async compact(): Promise<void> {
    const path = join(this.dir, STATE_LOG);
    const tmpPath = join(this.dir, STATE_LOG_TMP);
    const tmp = await open(tmpPath, 'w', 0o600);
    let size = 0;
    try {
      // Written in chunks so a large live map never becomes one giant string.
      let chunk: string[] = [];
      let chunkBytes = 0;
      for (const line of this.live.values()) {
        chunk.push(line);
        chunkBytes += line.length + 1;
        if (chunkBytes >= 1024 * 1024) {
          const buf = Buffer.from(chunk.join('\n') + '\n', 'utf8');
          await tmp.write(buf);
          size += buf.length;
          chunk = [];
          chunkBytes = 0;
        }
      }
      if (chunk.length > 0) {
        const buf = Buffer.from(chunk.join('\n') + '\n', 'utf8');
        await tmp.write(buf);
        size += buf.length;
      }
      if (this.mode === 'fsync') await tmp.sync();
    } finally {
      await tmp.close();
    }
    await rename(tmpPath, path);
    if (this.mode === 'fsync') await syncDirectory(this.dir);
    await this.fh?.close();
    this.fh = await open(path, 'a', 0o600);
    this.fileBytes = (await stat(path)).size;
    if (this.fileBytes !== size) {
      throw new Error(`compacted log is ${this.fileBytes} bytes, expected ${size}`);
    }
    this.stats.compactions++;
  }
}

/** fsync a directory so a rename in it survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A JSON copy, as a value read back from the log would be. */
function structuredCopy(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits must not crash the process; the store remembers the failure.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
