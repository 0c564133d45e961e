import type { ApiMethod, ApiParams, ApiPush, ApiResult } from '../../src-main/api/api-schema';
import { ApiCallError } from './api-call-error';
import { reconnectDelay_ms } from './backoff';
import { FrameError, parseResult, parseServerFrame } from './frame-validation';

/**
 * The page's one connection to the orchestrator: a WebSocket to /api on the page's own origin
 * (the token cookie the server set when it served the page goes along by itself). Typed calls
 * with ids and timeouts, pushes dispatched to listeners, and reconnection with backoff when the
 * socket drops. Calls made while the socket is down wait in a bounded queue for the reconnect.
 */

/** What the client needs of a WebSocket; the browser's satisfies it, tests pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Why the last connection ended, for the banner; null while connected. */
  readonly reason: string | null;
  /** Consecutive failed attempts since the last open. */
  readonly attempt: number;
  /** When the next attempt happens (epoch ms), while reconnecting. */
  readonly nextAttemptAt_ms: number | null;
}

export interface ApiClientOptions {
  readonly url: string;
  readonly createSocket?: (url: string) => SocketLike;
  readonly callTimeout_ms?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

const OPEN = 1;
/** Calls waiting for a connection; more than this and the page is not going to catch up. */
export const MAX_QUEUED_CALLS = 200;
/** Calls awaiting a response at once. */
export const MAX_PENDING_CALLS = 1_000;
export const DEFAULT_CALL_TIMEOUT_MS = 15_000;

interface Pending {
  readonly method: ApiMethod;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: ApiCallError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** The encoded request, kept until it is on the wire. */
  frame: string | null;
}

export type PushListener = (push: ApiPush) => void;
export type StatusListener = (status: ConnectionStatus) => void;
export type ProtocolErrorListener = (message: string) => void;

export class ApiClient {
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pushListeners = new Set<PushListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private readonly protocolErrorListeners = new Set<ProtocolErrorListener>();
  private status: ConnectionStatus = {
    state: 'connecting',
    reason: null,
    attempt: 0,
    nextAttemptAt_ms: null,
  };
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly callTimeout_ms: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: ApiClientOptions) {
    this.createSocket = options.createSocket ?? browserSocket;
    this.callTimeout_ms = options.callTimeout_ms ?? DEFAULT_CALL_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** ws(s)://<this page's host>/api. */
  static urlFor(location: { protocol: string; host: string }): string {
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
  }

  connect(): void {
    if (this.disposed) throw new Error('ApiClient.connect: the client was disposed');
    if (this.socket !== null) return;
    this.open();
  }

  get connection(): ConnectionStatus {
    return this.status;
  }

  onPush(listener: PushListener): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Frames the server sent that broke the contract (shown to the operator, then ignored). */
  onProtocolError(listener: ProtocolErrorListener): () => void {
    this.protocolErrorListeners.add(listener);
    return () => this.protocolErrorListeners.delete(listener);
  }

  call<M extends ApiMethod>(
    method: M,
    params: ApiParams<M>,
    options: { timeout_ms?: number } = {},
  ): Promise<ApiResult<M>> {
    if (this.disposed) {
      return Promise.reject(new ApiCallError(method, 'disconnected', 'the page is shutting down'));
    }
    if (this.pending.size >= MAX_PENDING_CALLS) {
      return Promise.reject(
        new ApiCallError(
          method,
          'queue-full',
          `${MAX_PENDING_CALLS} calls are already waiting for the orchestrator; wait and retry`,
        ),
      );
    }
    const connected = this.socket !== null && this.socket.readyState === OPEN;
    if (!connected && this.queuedCount() >= MAX_QUEUED_CALLS) {
      return Promise.reject(
        new ApiCallError(
          method,
          'queue-full',
          'not connected to the orchestrator and too many calls are queued; wait for the reconnect',
        ),
      );
    }
    const id = this.nextId++;
    const timeout_ms = options.timeout_ms ?? this.callTimeout_ms;
    return new Promise<ApiResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        const entry = this.pending.get(id);
        if (entry === undefined) return;
        this.pending.delete(id);
        const where = entry.frame === null ? 'no answer from the orchestrator' : 'not connected';
        reject(
          new ApiCallError(
            method,
            'timeout',
            `${where} within ${timeout_ms} ms; check that \`faultlab serve\` is still running`,
          ),
        );
      }, timeout_ms);
      const frame = JSON.stringify({ id, method, params });
      this.pending.set(id, {
        method,
        resolve: resolve as (r: unknown) => void,
        reject,
        timer,
        frame,
      });
      if (connected) this.flush();
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.failAll('disconnected', 'the page is shutting down');
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.onclose = null;
      socket.close(1000, 'page closed');
    }
    this.setStatus({
      state: 'closed',
      reason: 'closed by the page',
      attempt: 0,
      nextAttemptAt_ms: null,
    });
    this.pushListeners.clear();
    this.statusListeners.clear();
    this.protocolErrorListeners.clear();
  }

  // ---------------------------------------------------------------- internals

  private open(): void {
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.options.url);
    } catch (error) {
      this.scheduleReconnect(`could not open ${this.options.url}: ${String(error)}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.setStatus({ state: 'open', reason: null, attempt: 0, nextAttemptAt_ms: null });
      this.flush();
    };
    socket.onmessage = (ev) => this.onFrame(ev.data);
    socket.onerror = () => {
      // The close event that always follows carries the code; nothing to add here.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const reason = closeReason(ev.code, ev.reason);
      // Calls already sent will never be answered by this socket; queued ones wait for the next.
      for (const [id, p] of this.pending) {
        if (p.frame !== null) continue;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new ApiCallError(p.method, 'disconnected', `${reason}; retry once reconnected`));
      }
      this.scheduleReconnect(reason);
    };
  }

  private scheduleReconnect(reason: string): void {
    if (this.disposed) return;
    const attempt = this.status.state === 'open' ? 1 : this.status.attempt + 1;
    const delay = reconnectDelay_ms(Math.max(0, attempt - 1), this.random);
    this.setStatus({
      state: 'reconnecting',
      reason,
      attempt,
      nextAttemptAt_ms: this.now() + delay,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.disposed) this.open();
    }, delay);
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) return;
    for (const p of this.pending.values()) {
      if (p.frame === null) continue;
      socket.send(p.frame);
      p.frame = null;
    }
  }

  private queuedCount(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.frame !== null) n++;
    return n;
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') {
      this.protocolError('the server sent a binary frame; the api speaks JSON text frames');
      return;
    }
    let frame;
    try {
      frame = parseServerFrame(data);
    } catch (error) {
      this.protocolError(error instanceof FrameError ? error.message : String(error));
      return;
    }
    if (frame.kind === 'push') {
      for (const listener of this.pushListeners) listener(frame.push);
      return;
    }
    const p = this.pending.get(frame.id);
    if (p === undefined) return; // Timed out already; the late answer has nobody to go to.
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if (!frame.ok) {
      p.reject(new ApiCallError(p.method, frame.code as ApiCallError['code'], frame.message));
      return;
    }
    try {
      p.resolve(parseResult(p.method, frame.result));
    } catch (error) {
      p.reject(new ApiCallError(p.method, 'bad-response', String((error as Error).message)));
    }
  }

  private protocolError(message: string): void {
    for (const listener of this.protocolErrorListeners) listener(message);
  }

  private failAll(code: 'disconnected', detail: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ApiCallError(p.method, code, detail));
    }
    this.pending.clear();
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

/** The browser's WebSocket, looked up at call time (unit tests run in Node and pass a fake). */
function browserSocket(url: string): SocketLike {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Ctor === undefined) {
    throw new Error('this environment has no WebSocket; pass createSocket to ApiClient');
  }
  return new Ctor(url);
}

/** What a close code means for the operator, and what to do about it. */
export function closeReason(code: number, reason: string): string {
  const detail = reason ? `: ${reason}` : '';
  switch (code) {
    case 1008:
    case 4401:
      return `the orchestrator refused this page (${reason || 'bad or missing token'}); open the URL that \`faultlab serve\` printed`;
    case 1001:
      return `the orchestrator is shutting down${detail}`;
    case 1006:
      return 'the orchestrator cannot be reached (connection dropped); is `faultlab serve` still running? If it was restarted, open the new URL it printed';
    default:
      return `connection to the orchestrator closed (code ${code}${detail})`;
  }
}
