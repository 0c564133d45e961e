import { connect, type Socket } from 'node:net';
import { BoundedQueue } from './bounded-queue';
import type { FramedSocket } from './framed-socket';
import { HANDSHAKE_TIMEOUT_MS } from './peer-auth';
import { dialHandshake, type HandshakeIdentity } from './peer-handshake';

export interface OutgoingEndpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface OutgoingLinkOptions {
  readonly maxQueuedFrames: number;
  readonly reconnectMin_ms: number;
  readonly reconnectMax_ms: number;
}

export interface OutgoingLinkEvents {
  /** Frames the destination sent back on our connection (replies). */
  onFrames(frames: unknown[]): void;
  /** The handshake failed (either side refused, or it timed out). */
  onRefused(remote: string, reason: string): void;
  /** A frame was dropped because a bounded queue was full. */
  onDropped(): void;
}

/**
 * This node's connection to one destination: dialled lazily on the first send,
 * authenticated, and re-dialled with jittered exponential backoff whenever it drops. Frames
 * sent while it is down wait in a bounded queue (oldest dropped first) and go out as soon as
 * the next connection authenticates.
 */
export class OutgoingLink {
  private connecting: Socket | null = null;
  private conn: FramedSocket | null = null;
  private authenticated = false;
  private readonly waiting: BoundedQueue<Buffer>;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoff_ms: number;
  private closed = false;

  constructor(
    readonly endpoint: OutgoingEndpoint,
    private readonly identity: HandshakeIdentity,
    private readonly options: OutgoingLinkOptions,
    private readonly events: OutgoingLinkEvents,
  ) {
    this.waiting = new BoundedQueue<Buffer>(options.maxQueuedFrames);
    this.backoff_ms = options.reconnectMin_ms;
    this.dial();
  }

  send(frame: Buffer): void {
    if (this.closed) return;
    const kept =
      this.authenticated && this.conn !== null ? this.conn.send(frame) : this.waiting.push(frame);
    if (!kept) this.events.onDropped();
  }

  /** Drop the connection (e.g. the peer broke the protocol); it is re-dialled. */
  reset(reason: string): void {
    this.conn?.close(reason);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.waiting.clear();
    this.connecting?.destroy();
    this.connecting = null;
    this.conn?.close('transport closed');
    this.conn = null;
  }

  private dial(): void {
    if (this.closed) return;
    const { id, host, port } = this.endpoint;
    const socket = connect({ host, port, noDelay: true });
    this.connecting = socket;
    // A black-holed address would otherwise hang in connect for minutes.
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS);
    const onConnectFailed = (): void => {
      this.connecting = null;
      socket.destroy();
      this.scheduleRedial();
    };
    socket.once('error', onConnectFailed);
    socket.once('timeout', onConnectFailed);
    socket.once('connect', () => {
      this.connecting = null;
      socket.setTimeout(0);
      socket.off('error', onConnectFailed);
      socket.off('timeout', onConnectFailed);
      socket.setKeepAlive(true, 10_000);
      this.conn = dialHandshake(socket, this.identity, id, {
        onAuthenticated: (conn) => {
          this.authenticated = true;
          this.backoff_ms = this.options.reconnectMin_ms;
          for (let f = this.waiting.shift(); f !== undefined; f = this.waiting.shift()) {
            if (!conn.send(f)) this.events.onDropped();
          }
        },
        onFrames: (_conn, frames) => this.events.onFrames(frames),
        onRefused: (_conn, reason) => {
          if (!this.closed) this.events.onRefused(`${id} (${host}:${port})`, reason);
          this.down();
        },
        onClosed: () => this.down(),
      });
    });
  }

  private down(): void {
    this.conn = null;
    this.authenticated = false;
    this.scheduleRedial();
  }

  private scheduleRedial(): void {
    if (this.closed || this.retryTimer !== null) return;
    const wait_ms = this.backoff_ms * (0.5 + Math.random() / 2);
    this.backoff_ms = Math.min(this.options.reconnectMax_ms, this.backoff_ms * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, wait_ms);
  }
}
