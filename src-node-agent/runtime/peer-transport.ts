import { createServer, type Server, type Socket } from 'node:net';
import type { NodeId } from '../core/ids';
import type { FramedSocket } from './framed-socket';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from './framing';
import type { LinkFilter } from './link-filter';
import type { MessageTracer } from './message-trace';
import { OutgoingLink, PONG_FRAME } from './outgoing-link';
import { acceptHandshake, type HandshakeIdentity } from './peer-handshake';
import { PeerStats, type LinkStats } from './peer-stats';
import { encodeTracedFrame, messageType, type PeerFrameKind } from './traced-frame';

export type { LinkStats };

export interface PeerEndpoint {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
}

export interface PeerTransportOptions {
  readonly self: NodeId;
  readonly runId: string;
  readonly secret: Buffer;
  /** Where this node accepts peers (replicas); null for a workload agent, which only dials. */
  readonly listen: { readonly host: string; readonly port: number } | null;
  readonly servers: readonly PeerEndpoint[];
  readonly filter: LinkFilter;
  /**
   * Message tracing: when set, every frame to a peer carries an id and every send, receipt
   * and link-filter drop is reported to it. Null/absent: frames and paths as without it.
   */
  readonly trace?: MessageTracer | null;
  /** A server-to-server protocol message, not yet validated. */
  onMessage(from: NodeId, raw: unknown): void;
  /** A client request (arrived from a workload agent), not yet validated. */
  onRequest(raw: unknown): void;
  /** A replica's reply to one of our clients, not yet validated. */
  onReply(from: NodeId, raw: unknown): void;
  onUnauthenticated(remote: string, reason: string): void;
  /** Something the operator may want to know that is not a fault of the stack. */
  onWarning?(text: string): void;
  readonly maxFrameBytes?: number;
  /** Per destination and per connection; beyond it the oldest frame is dropped and counted. */
  readonly maxQueuedFrames?: number;
  /** Client id → connection routes for replies; beyond it the least recently used goes. */
  readonly maxClientRoutes?: number;
  /** Messages held by link-filter delays at once; beyond it new ones are dropped. */
  readonly maxDelayed?: number;
  readonly maxConnections?: number;
  readonly reconnectMin_ms?: number;
  readonly reconnectMax_ms?: number;
  /** Liveness of outgoing links (outgoing-link.ts): ping on idle-in, stall bound, dial floor. */
  readonly ping_ms?: number;
  readonly stall_ms?: number;
  readonly connectTimeoutMin_ms?: number;
}

interface InboundConn {
  readonly conn: FramedSocket;
  peer: NodeId | null;
}

/**
 * Authenticated TCP between the agents of one run, with the link fault filter in the path.
 * Server-to-server messages travel on the sender's own outgoing connection (one per
 * destination); client requests travel on the workload agent's connection to a replica, and
 * replies go back on the connection the client's requests arrived on.
 */
export class PeerTransport {
  private readonly serverById = new Map<NodeId, PeerEndpoint>();
  private readonly outgoing = new Map<NodeId, OutgoingLink>();
  private readonly inbound = new Set<InboundConn>();
  /** Insertion order = least recently used first. */
  private readonly clientRoutes = new Map<string, InboundConn>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private readonly stats = new PeerStats();
  private server: Server | null = null;
  private closing = false;
  private readonly identity: HandshakeIdentity;
  private readonly maxQueued: number;
  private readonly trace: MessageTracer | null;
  /** Authentication failures, since creation. */
  unauthenticated = 0;
  /** Replies for a client with no live connection (it reconnected or went away). */
  unroutableReplies = 0;

  constructor(private readonly options: PeerTransportOptions) {
    for (const s of options.servers) this.serverById.set(s.id, s);
    this.maxQueued = options.maxQueuedFrames ?? 10_000;
    this.trace = options.trace ?? null;
    this.identity = {
      self: options.self,
      runId: options.runId,
      secret: options.secret,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxQueuedFrames: this.maxQueued,
    };
    if (options.secret.length < 16) {
      throw new Error('peer transport: the run secret must be at least 16 bytes');
    }
  }

  /** Start listening (replicas). Resolves once the port is bound. */
  async start(): Promise<void> {
    const listen = this.options.listen;
    if (listen === null) return;
    const server = createServer({ noDelay: true }, (socket) => this.onInbound(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(
          new Error(
            `peer transport of ${this.options.self}: cannot listen on ` +
              `${listen.host}:${listen.port}: ${err.message} (is another process using the port?)`,
          ),
        );
      server.once('error', onError);
      server.listen(listen.port, listen.host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.warn(`peer listener error: ${err.message}`));
        resolve();
      });
    });
    // Dial every other replica now rather than on the first message: connect and handshake
    // then happen before the first request, not inside its view-change timeout (a peer not
    // listening yet refuses at once, and the link redials).
    for (const s of this.options.servers) if (s.id !== this.options.self) this.outgoingLink(s.id);
  }

  /** The bound address (useful with port 0). */
  address(): { host: string; port: number } | null {
    const a = this.server?.address();
    return a !== null && a !== undefined && typeof a === 'object'
      ? { host: a.address, port: a.port }
      : null;
  }

  sendMessage(to: NodeId, msg: unknown): void {
    this.broadcastMessage([to], msg);
  }

  /** The same message to several servers, encoded once. */
  broadcastMessage(to: readonly NodeId[], msg: unknown): void {
    if (this.closing) return;
    if (this.trace !== null) {
      this.broadcastTraced(this.trace, to, msg);
      return;
    }
    let frame: Buffer | null = null;
    for (const id of to) {
      if (id === this.options.self) {
        this.loopback(msg);
      } else if (!this.serverById.has(id)) {
        this.warn(`dropped a message to "${id}", which is not a server of this run`);
      } else {
        frame ??= encodeFrame({ t: 'msg', msg });
        this.route(id, frame, (f) => this.toServer(id, f));
      }
    }
  }

  sendRequest(to: NodeId, req: unknown): void {
    if (this.closing) return;
    if (!this.serverById.has(to)) {
      this.warn(`dropped a request to "${to}", which is not a server of this run`);
      return;
    }
    if (this.trace !== null) {
      const json = JSON.stringify(req);
      this.routeTraced(this.trace, to, 'req', req, json, (f) => this.toServer(to, f));
      return;
    }
    this.route(to, encodeFrame({ t: 'req', req }), (frame) => this.toServer(to, frame));
  }

  /** Send a reply back on the connection the client's requests arrive on. */
  sendReply(reply: { readonly client: string }): void {
    if (this.closing) return;
    const route = this.clientRoutes.get(reply.client);
    if (route === undefined || route.conn.closed || route.peer === null) {
      this.unroutableReplies++;
      return;
    }
    const peer = route.peer;
    const send = (frame: Buffer): void => {
      if (!route.conn.send(frame)) this.stats.dropped(peer);
    };
    if (this.trace !== null) {
      this.routeTraced(this.trace, peer, 'rep', reply, JSON.stringify(reply), send);
      return;
    }
    this.route(peer, encodeFrame({ t: 'rep', rep: reply }), send);
  }

  /** Per peer: messages sent / received / dropped since the previous call. */
  takeLinkStats(): Record<string, LinkStats> {
    const peers = Array.from(this.serverById.keys()).filter((id) => id !== this.options.self);
    return this.stats.take(peers, this.options.filter.takeDropped());
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
    for (const i of this.immediates) clearImmediate(i);
    this.immediates.clear();
    for (const link of this.outgoing.values()) link.close();
    for (const c of Array.from(this.inbound)) c.conn.close('transport closed');
    this.inbound.clear();
    this.clientRoutes.clear();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- sending

  /**
   * Apply the link filter: drop, or send each copy after its delay. `onFiltered` (tracing
   * only) hears of a message the filter dropped, or a copy no delay slot was left for.
   */
  private route(
    peer: NodeId,
    frame: Buffer,
    send: (frame: Buffer) => void,
    onFiltered?: () => void,
  ): void {
    const delays = this.options.filter.planOutgoing(peer);
    if (delays.length === 0) onFiltered?.();
    for (const delay_ms of delays) {
      this.stats.sent(peer);
      if (delay_ms <= 0) {
        send(frame);
      } else if (this.delayed.size >= (this.options.maxDelayed ?? 100_000)) {
        this.stats.dropped(peer);
        onFiltered?.();
      } else {
        const timer = setTimeout(() => {
          this.delayed.delete(timer);
          if (!this.closing) send(frame);
        }, delay_ms);
        this.delayed.add(timer);
      }
    }
  }

  /** Like broadcastMessage, with a separate id (and so frame) per destination. */
  private broadcastTraced(trace: MessageTracer, to: readonly NodeId[], msg: unknown): void {
    let json: string | undefined | null = null;
    for (const id of to) {
      if (id === this.options.self) {
        // Not on any link: a space-time diagram has no arrow for it.
        this.loopback(msg);
      } else if (!this.serverById.has(id)) {
        this.warn(`dropped a message to "${id}", which is not a server of this run`);
      } else {
        if (json === null) json = JSON.stringify(msg);
        this.routeTraced(trace, id, 'msg', msg, json, (f) => this.toServer(id, f));
      }
    }
  }

  /**
   * Give one message to one peer a fresh id, report its send (and its drop, if the link
   * filter drops it), and route it.
   */
  private routeTraced(
    trace: MessageTracer,
    peer: NodeId,
    kind: PeerFrameKind,
    payload: unknown,
    payloadJson: string | undefined,
    send: (frame: Buffer) => void,
  ): void {
    const wireId = trace.nextWireId();
    const frame = encodeTracedFrame(kind, wireId, payloadJson);
    const type = messageType(kind, payload);
    trace.outgoing('send', peer, type, wireId, frame.length);
    this.route(peer, frame, send, () => trace.outgoing('drop', peer, type, wireId, frame.length));
  }

  private toServer(to: NodeId, frame: Buffer): void {
    this.outgoingLink(to).send(frame);
  }

  private loopback(msg: unknown): void {
    // A copy, as if it had crossed the wire: the receiver must not share the sender's object.
    const copy: unknown = JSON.parse(JSON.stringify(msg));
    const immediate = setImmediate(() => {
      this.immediates.delete(immediate);
      if (!this.closing) this.options.onMessage(this.options.self, copy);
    });
    this.immediates.add(immediate);
  }

  private outgoingLink(to: NodeId): OutgoingLink {
    let link = this.outgoing.get(to);
    if (link === undefined) {
      link = new OutgoingLink(
        this.serverById.get(to) as PeerEndpoint,
        this.identity,
        {
          maxQueuedFrames: this.maxQueued,
          reconnectMin_ms: this.options.reconnectMin_ms ?? 10,
          reconnectMax_ms: this.options.reconnectMax_ms ?? 500,
          ...(this.options.ping_ms === undefined ? {} : { ping_ms: this.options.ping_ms }),
          ...(this.options.stall_ms === undefined ? {} : { stall_ms: this.options.stall_ms }),
          ...(this.options.connectTimeoutMin_ms === undefined
            ? {}
            : { connectTimeoutMin_ms: this.options.connectTimeoutMin_ms }),
        },
        {
          onFrames: (frames) => this.onDialledFrames(to, frames),
          onRefused: (remote, reason) => this.refused(remote, reason),
          onDropped: () => this.stats.dropped(to),
          onStalled: (detail) => this.warn(detail),
        },
      );
      this.outgoing.set(to, link);
    }
    return link;
  }

  // ---------------------------------------------------------------- receiving

  private onInbound(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.inbound.size >= (this.options.maxConnections ?? 1024)) {
      socket.destroy();
      this.refused(remote, `more than ${this.options.maxConnections ?? 1024} connections`);
      return;
    }
    const entry: InboundConn = { conn: null as unknown as FramedSocket, peer: null };
    const self = this.options.self;
    (entry as { conn: FramedSocket }).conn = acceptHandshake(
      socket,
      this.identity,
      (peer) => (peer === self ? `peer claims to be this node (${self})` : null),
      {
        onAuthenticated: (_conn, { peer }) => {
          entry.peer = peer;
          this.supersede(entry);
        },
        onFrames: (_conn, frames) => this.onAcceptedFrames(entry, frames),
        onRefused: (_conn, reason) => {
          this.inbound.delete(entry);
          this.refused(remote, reason);
        },
        onClosed: () => this.inbound.delete(entry),
      },
    );
    this.inbound.add(entry);
  }

  /**
   * A peer holds one connection to us at a time: a new one means it gave up on the old one
   * (it stalled, or the peer restarted), whose FIN may never arrive through a partition.
   * Closing it frees the slot and keeps a late retransmission on it from being delivered.
   */
  private supersede(entry: InboundConn): void {
    for (const other of this.inbound) {
      if (other !== entry && other.peer === entry.peer) {
        this.inbound.delete(other);
        other.conn.close(`superseded by a new connection from ${String(entry.peer)}`);
      }
    }
  }

  private onAcceptedFrames(entry: InboundConn, frames: unknown[]): void {
    const peer = entry.peer as NodeId;
    for (const frame of frames) {
      if (this.closing || entry.conn.closed) return;
      const f = frame as { t?: unknown; msg?: unknown; req?: unknown } | null;
      if (f !== null && typeof f === 'object' && f.t === 'ping') {
        // Transport liveness (outgoing-link.ts), answered at once and outside the link
        // filter: link faults model lost messages, not a dead TCP path.
        entry.conn.send(PONG_FRAME);
      } else if (f !== null && typeof f === 'object' && f.t === 'msg' && 'msg' in f) {
        if (!this.admit(peer, 'msg', f)) continue;
        this.options.onMessage(peer, f.msg);
      } else if (f !== null && typeof f === 'object' && f.t === 'req' && 'req' in f) {
        if (!this.admit(peer, 'req', f)) continue;
        this.rememberRoute(entry, f.req);
        this.options.onRequest(f.req);
      } else {
        entry.conn.close('protocol violation');
        this.warn(`${peer} sent a frame that is neither msg, req nor ping; connection dropped`);
        return;
      }
    }
  }

  private onDialledFrames(from: NodeId, frames: unknown[]): void {
    for (const frame of frames) {
      if (this.closing) return;
      const f = frame as { t?: unknown; rep?: unknown } | null;
      if (f !== null && typeof f === 'object' && f.t === 'rep' && 'rep' in f) {
        if (this.admit(from, 'rep', f)) this.options.onReply(from, f.rep);
      } else {
        this.outgoing.get(from)?.reset('protocol violation');
        this.warn(`${from} sent a frame that is not a reply on our connection; dropped it`);
        return;
      }
    }
  }

  /** The incoming link filter; traced before delivery, so a receipt precedes its effects. */
  private admit(peer: NodeId, kind: PeerFrameKind, frame: object): boolean {
    if (!this.options.filter.allowIncoming(peer)) {
      if (this.trace !== null) this.trace.incoming('drop', peer, kind, frame);
      return false;
    }
    this.stats.received(peer);
    if (this.trace !== null) this.trace.incoming('recv', peer, kind, frame);
    return true;
  }

  private rememberRoute(entry: InboundConn, req: unknown): void {
    const client = (req as { client?: unknown } | null)?.client;
    if (typeof client !== 'string' || client.length === 0 || client.length > 128) return;
    const current = this.clientRoutes.get(client);
    if (current === entry) return;
    this.clientRoutes.delete(client);
    if (this.clientRoutes.size >= (this.options.maxClientRoutes ?? 100_000)) {
      const oldest = this.clientRoutes.keys().next().value as string;
      this.clientRoutes.delete(oldest);
    }
    this.clientRoutes.set(client, entry);
  }

  private refused(remote: string, reason: string): void {
    this.unauthenticated++;
    if (!this.closing) this.options.onUnauthenticated(remote, reason);
  }

  private warn(text: string): void {
    this.options.onWarning?.(`peer transport of ${this.options.self}: ${text}`);
  }
}
