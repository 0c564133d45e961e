import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent, AgentFrame } from './frames';

export type EventFrame = Extract<AgentFrame, { t: 'event' }>;

export const SPILL_FILE = 'events.spill.ndjson';

export interface EventBufferOptions {
  /** Where the spill file lives (the agent's work dir). */
  readonly dir: string;
  /** Events kept in memory; beyond it the oldest half goes to the spill file. */
  readonly limit: number;
  /** Agent wall clock, ms since the epoch (fractional). */
  readonly now_ms: () => number;
}

/** A run of spilled events: seqs [first, last] at bytes [start, end) of the spill file. */
interface SpillChunk {
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Every event the agent emits, numbered 1, 2, … and kept until the orchestrator acks it, so
 * a dropped control link (or SSH tunnel) loses nothing: on reconnect the orchestrator says
 * the last seq it recorded and gets the rest again.
 *
 * Memory is bounded: beyond `limit` events the oldest half is appended to
 * `events.spill.ndjson` and read back from there for resends. The file is truncated once
 * everything in it is acked. Nothing unacked is ever discarded while the process lives.
 */
export class EventBuffer {
  /** In-memory events; seqs are contiguous, mem[0].seq === memFirst. */
  private mem: EventFrame[] = [];
  private memFirst = 1;
  private next = 1;
  private acked = 0;
  private chunks: SpillChunk[] = [];
  private spillBytes = 0;
  private fd: number | null = null;
  private readonly spillPath: string;
  private listener: (() => void) | null = null;
  /** Events written to the spill file since creation. */
  spilled = 0;

  constructor(private readonly options: EventBufferOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 2) {
      throw new Error(`event buffer limit must be an integer >= 2, got ${options.limit}`);
    }
    this.spillPath = join(options.dir, SPILL_FILE);
    // Spilled events of an earlier incarnation belong to a sequence nobody can ask for again.
    rmSync(this.spillPath, { force: true });
  }

  /** Newest seq assigned (0 before the first event). */
  get lastSeq(): number {
    return this.next - 1;
  }

  /** Oldest seq still buffered; lastSeq + 1 when nothing is. */
  get firstSeq(): number {
    return Math.max(this.acked + 1, this.chunks[0]?.first ?? this.memFirst);
  }

  get ackedSeq(): number {
    return this.acked;
  }

  /** Events buffered (in memory and spilled) and not yet acked. */
  get unacked(): number {
    return this.lastSeq - this.acked;
  }

  get inMemory(): number {
    return this.mem.length;
  }

  push(e: AgentEvent): number {
    const seq = this.next++;
    this.mem.push({ t: 'event', seq, time_ms: this.options.now_ms(), e });
    if (this.mem.length > this.options.limit) this.spillOldestHalf();
    this.listener?.();
    return seq;
  }

  /** Called after every push (the control server streams live events from it). */
  onPush(listener: (() => void) | null): void {
    this.listener = listener;
  }

  /** The orchestrator has recorded everything up to `seq`. */
  ack(seq: number): void {
    const upTo = Math.min(seq, this.lastSeq);
    if (upTo <= this.acked) return;
    this.acked = upTo;
    while (this.chunks.length > 0 && (this.chunks[0] as SpillChunk).last <= upTo) {
      this.chunks.shift();
    }
    if (this.chunks.length === 0 && this.spillBytes > 0) this.truncateSpill();
    const drop = Math.min(this.mem.length, upTo - this.memFirst + 1);
    if (drop > 0) {
      this.mem = this.mem.slice(drop);
      this.memFirst += drop;
    }
  }

  /**
   * Every buffered event with seq > `seq`, in order (spilled ones read back from disk).
   * Safe to interleave with push and ack: each step looks the next seq up afresh.
   */
  *after(seq: number): Generator<EventFrame> {
    let from = Math.max(seq, this.acked) + 1;
    let cached: { chunk: SpillChunk; frames: EventFrame[] } | null = null;
    while (from < this.next) {
      from = Math.max(from, this.acked + 1);
      if (from >= this.next) return;
      if (from >= this.memFirst) {
        const frame = this.mem[from - this.memFirst] as EventFrame;
        yield frame;
        from = frame.seq + 1;
        continue;
      }
      const chunk = this.chunks.find((c) => c.last >= from);
      if (chunk === undefined) {
        throw new Error(`event buffer lost seq ${from}: neither in memory nor spilled`);
      }
      if (cached === null || cached.chunk !== chunk) {
        cached = { chunk, frames: this.readChunk(chunk) };
      }
      // A chunk's seqs are contiguous (spilled from the contiguous in-memory run).
      const frame = cached.frames[Math.max(0, from - chunk.first)] as EventFrame;
      yield frame;
      from = frame.seq + 1;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.spillPath, { force: true });
  }

  private spillOldestHalf(): void {
    const count = Math.floor(this.mem.length / 2);
    let out = this.mem.slice(0, count);
    this.mem = this.mem.slice(count);
    this.memFirst += count;
    // Already acked ones need not be kept anywhere.
    out = out.filter((f) => f.seq > this.acked);
    if (out.length === 0) return;
    const data = Buffer.from(out.map((f) => JSON.stringify(f)).join('\n') + '\n', 'utf8');
    if (this.fd === null) this.fd = openSync(this.spillPath, 'w+', 0o600);
    let written = 0;
    while (written < data.length) {
      written += writeSync(
        this.fd,
        data,
        written,
        data.length - written,
        this.spillBytes + written,
      );
    }
    const first = (out[0] as EventFrame).seq;
    const last = (out[out.length - 1] as EventFrame).seq;
    this.chunks.push({ first, last, start: this.spillBytes, end: this.spillBytes + data.length });
    this.spillBytes += data.length;
    this.spilled += out.length;
  }

  private readChunk(chunk: SpillChunk): EventFrame[] {
    const length = chunk.end - chunk.start;
    const data = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = readSync(this.fd as number, data, read, length - read, chunk.start + read);
      if (n === 0) {
        throw new Error(
          `${this.spillPath} is shorter than expected (${chunk.start + read} < ${chunk.end}); ` +
            'was it truncated by hand?',
        );
      }
      read += n;
    }
    const text = data.toString('utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as EventFrame);
  }

  private truncateSpill(): void {
    if (this.fd !== null) ftruncateSync(this.fd, 0);
    this.spillBytes = 0;
  }
}
