import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BoundedQueue } from './bounded-queue';
import type { FramedSocket } from './framed-socket';
import { encodeFrame } from './framing';
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
  /** A ping goes out when nothing was heard from the destination for this long. */
  readonly ping_ms?: number;
  /** No answer for this long (at least; more on a slow path, see stallBound): stalled. */
  readonly stall_ms?: number;
  /** Frames that waited longer than this for a connection are dropped, not sent. */
  readonly maxWait_ms?: number;
  /** A connect gets at least this long once the path's RTT is known. */
  readonly connectTimeoutMin_ms?: number;
}

export interface OutgoingLinkEvents {
  /** Frames the destination sent back on our connection (replies; never pongs). */
  onFrames(frames: unknown[]): void;
  /** The handshake failed (either side refused). */
  onRefused(remote: string, reason: string): void;
  /** A frame was dropped because a bounded queue was full. */
  onDropped(): void;
  /** The connection stalled and was replaced (for the operator's log). */
  onStalled?(detail: string): void;
}

/** Transport-level liveness frames: the acceptor answers each ping with a pong at once. */
export const PING_FRAME = encodeFrame({ t: 'ping' });
export const PONG_FRAME = encodeFrame({ t: 'pong' });

const DEFAULT_PING_MS = 50;
const DEFAULT_STALL_MS = 400;
const DEFAULT_CONNECT_TIMEOUT_MIN_MS = 50;
const DEFAULT_MAX_WAIT_MS = 250;
const HANDSHAKE_TIMEOUT_MIN_MS = 1_000;
/** A dial to a destination whose RTT we never measured (nothing slower is sane on any path). */
const FIRST_DIAL_TIMEOUT_MS = 1_000;
const DIAL_TIMED_OUT = 'dial timed out before authentication';

function isPong(frame: unknown): boolean {
  return (frame as { t?: unknown } | null)?.t === 'pong';
}

/**
 * This node's connection to one destination: dialled lazily on the first send,
 * authenticated, and re-dialled whenever it drops. Frames sent while it is down wait in a
 * bounded queue (oldest dropped first) and go out as soon as the next connection
 * authenticates.
 *
 * Why pings: server-to-server traffic flows one way on this connection, so a black-holed
 * path (a kernel partition) looks, to TCP, like a slow one: after the path heals, the
 * socket sits in exponential retransmission backoff for up to seconds. A ping on an
 * idle-in link every ping_ms, answered at once by the acceptor, tells a stall from silence;
 * a stalled connection is destroyed and re-dialled, and each dial is bounded by a timeout
 * scaled to the measured RTT, so the first attempt after a heal gets through within about
 * one dial timeout instead of one TCP backoff period.
 */
export class OutgoingLink {
  private connecting: Socket | null = null;
  private conn: FramedSocket | null = null;
  private authenticated = false;
  /** Frames sent while down, with when (performance.now()). */
  private readonly waiting: BoundedQueue<{ readonly frame: Buffer; readonly at: number }>;
  private retryTimer: NodeJS.Timeout | null = null;
  private dialTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private backoff_ms: number;
  private closed = false;
  private readonly ping_ms: number;
  private readonly stall_ms: number;
  private readonly connectTimeoutMin_ms: number;
  private pendingExpiry: NodeJS.Immediate | null = null;
  private readonly maxWait_ms: number;
  /** Last frame of any kind from the destination (performance.now()). */
  private lastHeard = 0;
  private lastTick = 0;
  /** When the unanswered ping went out; null when none is outstanding. */
  private pingSentAt: number | null = null;
  /** Smoothed RTT of ping/pong (RFC 6298 weights); null until the first pong. */
  private srtt_ms: number | null = null;
  /** The current outage began with a stall or a timed-out dial (not a refusal). */
  private blackHoled = false;
  /** Connections replaced because they stalled, since creation. */
  stalls = 0;

  constructor(
    readonly endpoint: OutgoingEndpoint,
    private readonly identity: HandshakeIdentity,
    private readonly options: OutgoingLinkOptions,
    private readonly events: OutgoingLinkEvents,
  ) {
    this.waiting = new BoundedQueue(options.maxQueuedFrames);
    this.backoff_ms = options.reconnectMin_ms;
    this.ping_ms = options.ping_ms ?? DEFAULT_PING_MS;
    this.stall_ms = options.stall_ms ?? DEFAULT_STALL_MS;
    this.connectTimeoutMin_ms = options.connectTimeoutMin_ms ?? DEFAULT_CONNECT_TIMEOUT_MIN_MS;
    this.maxWait_ms = options.maxWait_ms ?? DEFAULT_MAX_WAIT_MS;
    this.dial();
  }

  /** The smoothed round-trip time to the destination, once measured. */
  get rtt_ms(): number | null {
    return this.srtt_ms;
  }

  send(frame: Buffer): void {
    if (this.closed) return;
    const kept =
      this.authenticated && this.conn !== null
        ? this.conn.send(frame)
        : this.waiting.push({ frame, at: performance.now() });
    if (!kept) this.events.onDropped();
  }

  /** Drop the connection (e.g. the peer broke the protocol); it is re-dialled. */
  reset(reason: string): void {
    this.conn?.close(reason);
  }

  close(): void {
    this.closed = true;
    this.clearTimer('retryTimer');
    this.clearTimer('dialTimer');
    this.stopTicker();
    this.waiting.clear();
    this.connecting?.destroy();
    this.connecting = null;
    this.conn?.close('transport closed');
    this.conn = null;
  }

  /** How long without an answer means stalled: the floor, or more on a slow path. */
  private stallBound(): number {
    return Math.max(this.stall_ms, this.ping_ms + 4 * (this.srtt_ms ?? 0));
  }

  /** A connect takes one RTT; it gets a few, never less than the floor. */
  private connectTimeout(): number {
    return this.srtt_ms === null
      ? FIRST_DIAL_TIMEOUT_MS
      : Math.max(this.connectTimeoutMin_ms, 4 * this.srtt_ms);
  }

  /** The handshake takes 1.5 RTTs and two turns of the peer's event loop; a busy peer is slow. */
  private handshakeTimeout(): number {
    return this.srtt_ms === null
      ? HANDSHAKE_TIMEOUT_MS
      : Math.max(HANDSHAKE_TIMEOUT_MIN_MS, 8 * this.srtt_ms);
  }

  private clearTimer(which: 'retryTimer' | 'dialTimer'): void {
    const t = this[which];
    if (t !== null) clearTimeout(t);
    this[which] = null;
    if (which === 'dialTimer' && this.pendingExpiry !== null) {
      clearImmediate(this.pendingExpiry);
      this.pendingExpiry = null;
    }
  }

  private dial(): void {
    if (this.closed) return;
    const { id, host, port } = this.endpoint;
    const socket = connect({ host, port, noDelay: true });
    this.connecting = socket;
    // Connect and handshake have deadlines of their own: a black-holed path (a partition)
    // would otherwise keep this attempt in SYN or data retransmission backoff long after it
    // heals. The connect deadline is short (the kernel answers a SYN, no event loop in the
    // way), so after a heal a fresh SYN goes out within about one of them.
    this.arm(this.connectTimeout(), () => {
      if (this.connecting !== socket) return;
      this.connecting = null;
      socket.destroy();
      this.scheduleRedial(true);
    });
    const onConnectFailed = (): void => {
      if (this.connecting !== socket) return;
      this.connecting = null;
      this.clearTimer('dialTimer');
      socket.destroy();
      this.scheduleRedial(false);
    };
    socket.once('error', onConnectFailed);
    socket.once('connect', () => {
      this.connecting = null;
      socket.off('error', onConnectFailed);
      socket.setKeepAlive(true, 10_000);
      const conn = dialHandshake(socket, this.identity, id, {
        onAuthenticated: (c) => {
          this.clearTimer('dialTimer');
          this.authenticated = true;
          this.backoff_ms = this.options.reconnectMin_ms;
          // After a stall (a black-holed path), what waited longer than maxWait_ms is lost,
          // as on the real link: a backlog of stale heartbeats and accepts after a partition
          // would only keep the destination busy when it most needs to catch up. A peer that
          // is not listening yet (start-up, restart) refuses at once: its frames all go out.
          const now = performance.now();
          const maxAge = this.blackHoled ? this.maxWait_ms : Number.POSITIVE_INFINITY;
          this.blackHoled = false;
          for (let w = this.waiting.shift(); w !== undefined; w = this.waiting.shift()) {
            if (now - w.at > maxAge || !c.send(w.frame)) this.events.onDropped();
          }
          this.startTicker(c);
        },
        onFrames: (_conn, frames) => this.onFrames(frames),
        onRefused: (_conn, reason) => {
          // A handshake cut short by our deadline is a slow path, not a refusal.
          const timedOut = reason.endsWith(DIAL_TIMED_OUT);
          if (!this.closed && !timedOut) this.events.onRefused(`${id} (${host}:${port})`, reason);
          this.down(timedOut);
        },
        onClosed: (_conn, reason) => this.down(reason.startsWith('stalled')),
      });
      this.conn = conn;
      this.arm(this.handshakeTimeout(), () => {
        if (this.conn === conn && !this.authenticated) conn.close(DIAL_TIMED_OUT);
      });
    });
  }

  /**
   * The dial deadline. It fires from the timers phase; when our own event loop was blocked,
   * the answer may already wait unread, so the verdict is taken in the check phase of the
   * same turn, after the poll phase has delivered pending I/O.
   */
  private arm(timeout_ms: number, expire: () => void): void {
    this.clearTimer('dialTimer');
    this.dialTimer = setTimeout(() => {
      this.dialTimer = null;
      const check = setImmediate(() => {
        this.pendingExpiry = null;
        if (!this.closed) expire();
      });
      this.pendingExpiry = check;
    }, timeout_ms);
  }

  private onFrames(frames: unknown[]): void {
    const now = performance.now();
    this.lastHeard = now;
    if (this.pingSentAt !== null) {
      // Any frame after the ping proves the path; only a pong times the round trip.
      if (frames.some(isPong)) {
        const sample = now - this.pingSentAt;
        this.srtt_ms = this.srtt_ms === null ? sample : 0.875 * this.srtt_ms + 0.125 * sample;
      }
      this.pingSentAt = null;
    }
    const data = frames.filter((f) => !isPong(f));
    if (data.length > 0) this.events.onFrames(data);
  }

  private startTicker(conn: FramedSocket): void {
    this.stopTicker();
    const now = performance.now();
    this.lastHeard = now;
    this.lastTick = now;
    this.pingSentAt = null;
    this.ticker = setInterval(() => this.tick(conn), this.ping_ms);
    // Liveness alone must not keep an agent process alive.
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.pingSentAt = null;
  }

  private tick(conn: FramedSocket): void {
    if (conn !== this.conn || conn.closed) return;
    const now = performance.now();
    const late = now - this.lastTick > 2 * this.ping_ms;
    this.lastTick = now;
    // Our own event loop was blocked: an answer may be waiting unread in the socket, and the
    // I/O phase before the next tick reads it. Judge then, not now.
    if (!late && this.pingSentAt !== null && now - this.pingSentAt > this.stallBound()) {
      this.stalls++;
      const detail =
        `connection to ${this.endpoint.id} (${this.endpoint.host}:${this.endpoint.port}) ` +
        `stalled: no answer to a ping for ${Math.round(now - this.pingSentAt)} ms; re-dialling`;
      this.events.onStalled?.(detail);
      conn.close(`stalled: ${detail}`);
      return;
    }
    if (this.pingSentAt === null && now - this.lastHeard >= this.ping_ms) {
      this.pingSentAt = now;
      conn.send(PING_FRAME);
    }
  }

  private down(promptly: boolean): void {
    this.clearTimer('dialTimer');
    this.stopTicker();
    this.conn = null;
    this.authenticated = false;
    this.scheduleRedial(promptly);
  }

  /**
   * `promptly`: the path timed out or stalled, and the attempt itself already waited a dial
   * timeout, so the next goes out after the minimum wait (the dial timeout is the backoff).
   * Otherwise (refused, reset): jittered exponential backoff up to reconnectMax_ms.
   */
  private scheduleRedial(promptly: boolean): void {
    if (promptly) this.blackHoled = true;
    if (this.closed || this.retryTimer !== null) return;
    const base = promptly ? this.options.reconnectMin_ms : this.backoff_ms;
    const wait_ms = base * (0.5 + Math.random() / 2);
    if (!promptly) this.backoff_ms = Math.min(this.options.reconnectMax_ms, this.backoff_ms * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, wait_ms);
  }
}
