import type { AgentEvent } from '../control/frames';
import type { NodeId } from '../core/ids';
import { TokenBucket } from './token-bucket';
import { framePayload, messageType, receivedMid, type PeerFrameKind } from './traced-frame';

export type MessageDirection = 'send' | 'recv' | 'drop';

/** Gaps in the trace are reported at most this often (one summary event each). */
export const TRACE_SUMMARY_INTERVAL_MS = 1_000;

export interface MessageTracerOptions {
  readonly self: NodeId;
  /** This process's incarnation: ids of two starts on one work dir never collide. */
  readonly incarnation: number;
  /** Message events per second (token bucket, a second's worth may come at once). */
  readonly maxPerSecond: number;
  readonly emit: (event: AgentEvent) => void;
  /** Monotonic ms (for the token bucket). */
  readonly now_ms?: () => number;
}

/**
 * Message events for space-time diagrams (Maelstrom's messages.svg, ShiViz): one `message`
 * event per send, receipt and link-filter drop, all in the agent's sequenced event stream,
 * so on one node they are ordered exactly as they happened. Send and receipt pair by `mid`,
 * `${sender}.${incarnation}.${counter}`, which travels in the peer frame.
 *
 * Bounded: a token bucket allows `maxPerSecond` events a second; the rest are counted, and
 * one `message-trace-dropped` summary per second says how many are missing, so a consumer
 * knows where the diagram has gaps. Nothing is queued.
 */
export class MessageTracer {
  private readonly bucket: TokenBucket;
  private readonly wirePrefix: string;
  private counter = 0;
  private suppressed = 0;
  private summaryTimer: NodeJS.Timeout | null = null;
  private disposed = false;
  /** Message events emitted / suppressed by the rate limit, since creation. */
  emitted = 0;
  suppressedTotal = 0;

  constructor(private readonly options: MessageTracerOptions) {
    if (!Number.isInteger(options.maxPerSecond) || options.maxPerSecond < 1) {
      throw new Error(
        `message trace of ${options.self}: maxPerSecond must be a positive integer, ` +
          `got ${options.maxPerSecond} (set traceMessages to null to turn tracing off)`,
      );
    }
    this.bucket = new TokenBucket(options.maxPerSecond, options.maxPerSecond, options.now_ms);
    this.wirePrefix = `${options.incarnation}.`;
  }

  /** A fresh id for one message to one peer, as it travels (`<incarnation>.<counter>`). */
  nextWireId(): string {
    return this.wirePrefix + String(++this.counter);
  }

  /** This node sent (or, with `dir: 'drop'`, its link filter dropped) a message it wrote. */
  outgoing(dir: 'send' | 'drop', peer: NodeId, type: string, wireId: string, bytes: number): void {
    if (!this.admit()) return;
    const mid = `${this.options.self}.${wireId}`;
    this.options.emit({ kind: 'message', dir, peer, type, mid, bytes });
  }

  /**
   * A frame from `peer` was received (`recv`) or dropped by this node's link filter
   * (`drop`). Its label, id and size are only worked out when the event is emitted.
   */
  incoming(dir: 'recv' | 'drop', peer: NodeId, kind: PeerFrameKind, frame: object): void {
    if (!this.admit()) return;
    const type = messageType(kind, framePayload(kind, frame));
    const mid = receivedMid(peer, frame as { m?: unknown });
    // The frame is parsed JSON of JSON.stringify output: stringifying it again gives the
    // same text, so this is the size on the wire (plus the 4-byte length prefix).
    const bytes = 4 + Buffer.byteLength(JSON.stringify(frame), 'utf8');
    this.options.emit({ kind: 'message', dir, peer, type, mid, bytes });
  }

  /** Report the last gap (if any) and stop the summary timer. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    if (this.summaryTimer !== null) clearTimeout(this.summaryTimer);
    this.summaryTimer = null;
    this.flushSummary();
    this.disposed = true;
  }

  private admit(): boolean {
    if (this.disposed) return false;
    if (this.bucket.take()) {
      this.emitted++;
      return true;
    }
    this.suppressed++;
    this.suppressedTotal++;
    if (this.summaryTimer === null) {
      this.summaryTimer = setTimeout(() => {
        this.summaryTimer = null;
        this.flushSummary();
      }, TRACE_SUMMARY_INTERVAL_MS);
      // A pending summary must not keep a finished process alive; dispose flushes it.
      this.summaryTimer.unref();
    }
    return false;
  }

  private flushSummary(): void {
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    this.options.emit({ kind: 'message-trace-dropped', count });
  }
}
