/**
 * Length-prefixed JSON frames over a byte stream (TCP between agents, the control socket):
 * a 4-byte big-endian length, then that many bytes of UTF-8 JSON. The decoder is incremental
 * and bounded: a frame longer than `maxFrameBytes` is a protocol violation (the connection is
 * dropped), never a reason to buffer without limit.
 */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function encodeFrame(value: unknown): Buffer {
  // Encoded straight into the frame (small frames come from Node's buffer pool): one copy.
  const json = JSON.stringify(value);
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4, 'utf8');
  return frame;
}

export class FrameError extends Error {}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /**
   * Feed bytes; returns every complete frame, parsed. Throws FrameError on an oversized frame
   * or invalid JSON: the caller must drop the connection (the stream is no longer aligned).
   */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    let data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (length > this.maxFrameBytes) {
        throw new FrameError(
          `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`,
        );
      }
      if (data.length - offset - 4 < length) break;
      const text = data.toString('utf8', offset + 4, offset + 4 + length);
      offset += 4 + length;
      try {
        out.push(JSON.parse(text));
      } catch (err) {
        throw new FrameError(`frame is not valid JSON: ${(err as Error).message}`);
      }
    }
    data = offset === data.length ? Buffer.alloc(0) : data.subarray(offset);
    this.chunks = data.length > 0 ? [data] : [];
    this.buffered = data.length;
    return out;
  }

  get pendingBytes(): number {
    return this.buffered;
  }
}
