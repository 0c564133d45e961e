import { open, type FileHandle } from 'node:fs/promises';
import type { RunRecord } from '../../record/schema';

const CHUNK_BYTES = 256 * 1024;
/** A line longer than this is not a record we wrote; it is skipped rather than buffered. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface PositionedRecord {
  readonly record: RunRecord;
  /** Byte offset of the record's line, and of the line after it. */
  readonly offset: number;
  readonly end: number;
}

/**
 * Reads events.ndjson forward from a byte offset, a chunk at a time (recordings can be hours
 * long; never the whole file). Lines that are not records (a torn last line, damage) are
 * counted in `skipped`, not fatal: playback shows what can be read.
 */
export class RecordCursor {
  private handle: FileHandle | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  /** File offset of buffer[0]. */
  private bufferOffset: number;
  private fileOffset: number;
  private eof = false;
  private peeked: PositionedRecord | null = null;
  /** Records already folded in out of file order (a seek's late records): passed over. */
  private readonly alreadyRead = new Set<number>();
  skipped = 0;

  constructor(
    private readonly path: string,
    offset: number,
  ) {
    this.bufferOffset = offset;
    this.fileOffset = offset;
  }

  /** Where the next record's line starts. */
  get position(): number {
    return this.peeked?.offset ?? this.bufferOffset;
  }

  async peek(): Promise<PositionedRecord | null> {
    while (this.peeked === null) {
      const r = await this.readNext();
      if (r === null) return null;
      if (this.alreadyRead.delete(r.offset)) continue;
      this.peeked = r;
    }
    return this.peeked;
  }

  /** Pass over the records at these offsets when the cursor reaches them. */
  passOver(offsets: Iterable<number>): void {
    for (const o of offsets) if (o >= this.position) this.alreadyRead.add(o);
  }

  async next(): Promise<PositionedRecord | null> {
    const r = await this.peek();
    this.peeked = null;
    return r;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }

  private async readNext(): Promise<PositionedRecord | null> {
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0) {
        if (this.eof) return null; // an unterminated last line is torn: not a record yet
        if (this.buffer.length > MAX_LINE_BYTES) {
          this.skipped++;
          this.bufferOffset += this.buffer.length;
          this.buffer = Buffer.alloc(0);
        }
        await this.fill();
        continue;
      }
      const offset = this.bufferOffset;
      const line = this.buffer.subarray(0, nl).toString('utf8');
      this.buffer = this.buffer.subarray(nl + 1);
      this.bufferOffset += nl + 1;
      const record = parseRecord(line);
      if (record === null) {
        if (line.trim() !== '') this.skipped++;
        continue;
      }
      return { record, offset, end: this.bufferOffset };
    }
  }

  private async fill(): Promise<void> {
    this.handle ??= await open(this.path, 'r');
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await this.handle.read(chunk, 0, CHUNK_BYTES, this.fileOffset);
    if (bytesRead === 0) {
      this.eof = true;
      return;
    }
    this.fileOffset += bytesRead;
    this.buffer =
      this.buffer.length === 0
        ? chunk.subarray(0, bytesRead)
        : Buffer.concat([this.buffer, chunk.subarray(0, bytesRead)]);
  }
}

/**
 * A line of events.ndjson. The writer validated what it wrote (or wrote frames validated at
 * the control channel); here only the shape the fold relies on is checked, for speed.
 */
function parseRecord(line: string): RunRecord | null {
  if (line.length === 0) return null;
  try {
    const v = JSON.parse(line) as { type?: unknown; t_ms?: unknown };
    if (typeof v !== 'object' || v === null) return null;
    if (typeof v.type !== 'string' || typeof v.t_ms !== 'number') return null;
    return v as RunRecord;
  } catch {
    return null;
  }
}
