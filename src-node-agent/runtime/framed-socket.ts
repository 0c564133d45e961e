import type { Socket } from 'node:net';
import { BoundedQueue } from './bounded-queue';
import { FrameDecoder, FrameError } from './framing';

/** Above this many bytes in the kernel-bound socket buffer, frames wait in our queue. */
export const WRITE_HIGH_WATER_BYTES = 8 * 1024 * 1024;

export interface FramedSocketHandlers {
  /** Every complete frame of one read, in order. */
  onFrames(frames: unknown[]): void;
  /** Called once, when the socket is gone for whatever reason. */
  onClose(reason: string): void;
}

/**
 * One socket speaking length-prefixed JSON frames. Writes are coalesced: frames queued in
 * one event-loop turn go out in a single corked burst (one writev) on the next, which is
 * what keeps many small protocol messages cheap. The queue is bounded (oldest dropped and
 * counted) and respects the socket's backpressure.
 */
export class FramedSocket {
  private decoder: FrameDecoder;
  private readonly queue: BoundedQueue<Buffer>;
  private flushScheduled = false;
  private waitingForDrain = false;
  private closedReason: string | null = null;
  private immediate: NodeJS.Immediate | null = null;

  constructor(
    readonly socket: Socket,
    maxFrameBytes: number,
    maxQueuedFrames: number,
    private readonly handlers: FramedSocketHandlers,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.queue = new BoundedQueue<Buffer>(maxQueuedFrames);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed by the peer'));
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.scheduleFlush();
    });
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Frames dropped because the queue was full. */
  get dropped(): number {
    return this.queue.dropped;
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /**
   * Switch the frame size limit (tiny during the handshake, full afterwards). Only valid on
   * a frame boundary: bytes already buffered would otherwise be parsed with the wrong limit.
   */
  setMaxFrameBytes(maxFrameBytes: number): boolean {
    if (this.decoder.pendingBytes > 0) return false;
    this.decoder = new FrameDecoder(maxFrameBytes);
    return true;
  }

  /** Queue an encoded frame; returns false when the queue was full and dropped its oldest. */
  send(frame: Buffer): boolean {
    if (this.closed) return false;
    const kept = this.queue.push(frame);
    this.scheduleFlush();
    return kept;
  }

  /** Destroy the socket; `onClose` gets `reason`. Idempotent. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    this.queue.clear();
    this.socket.destroy();
    this.handlers.onClose(reason);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: unknown[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      const reason =
        err instanceof FrameError ? `bad frame: ${err.message}` : `read failed: ${String(err)}`;
      this.close(reason);
      return;
    }
    if (frames.length > 0) this.handlers.onFrames(frames);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingForDrain || this.closed) return;
    this.flushScheduled = true;
    this.immediate = setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.immediate = null;
    if (this.closed || this.queue.length === 0) return;
    const socket = this.socket;
    // One buffer, one write: a socket.write per frame cost more JS than the copy (hundreds of
    // small replies per turn under load).
    const parts: Buffer[] = [];
    let bytes = 0;
    const room = WRITE_HIGH_WATER_BYTES - socket.writableLength;
    while (this.queue.length > 0 && bytes <= room) {
      const frame = this.queue.shift() as Buffer;
      parts.push(frame);
      bytes += frame.length;
    }
    if (parts.length > 0)
      socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes));
    if (this.queue.length > 0) this.waitingForDrain = true;
  }
}
