import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { wallClock_ms } from '../runtime/clock';
import type { AgentLog } from '../runtime/agent-log';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder, FrameError } from '../runtime/framing';
import type { LinkFilter } from '../runtime/link-filter';
import { DeadManSwitch } from './dead-man-switch';
import type { EventBuffer } from './event-buffer';
import {
  orchestratorFrameSchema,
  type AgentEvent,
  type AgentFrame,
  type OrchestratorFrame,
} from './frames';
import type { WorkloadSpec } from './workload-spec';

/** Above this many bytes queued in the socket, live events wait in the buffer for 'drain'. */
export const CONTROL_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/**
 * Events wait this long to go out together. Sent at once, every protocol step woke the
 * orchestrator, which then competed for the CPU with the replicas on the critical path of
 * each request; a few milliseconds is nothing to the dashboard or the recording.
 */
export const EVENT_BATCH_MS = 5;
/** Linux's sun_path holds 108 bytes including the terminating NUL. */
const MAX_UNIX_SOCKET_PATH = 107;

export interface ControlHandlers {
  /** Absent on replicas. Throws to report a refusal to the orchestrator. */
  startWorkload?(spec: WorkloadSpec): void;
  stopWorkload?(drain_ms: number): void;
  /** Graceful exit 0 (the agent's own shutdown sequence). */
  shutdown(): void;
  /**
   * The lease expired (after the link faults were healed): undo anything else that should
   * not outlive the orchestrator, e.g. a running workload nobody records any more.
   */
  leaseExpired?(): void;
  /** Absent on workload agents. Throws when the stack has no such behaviour. */
  setBehaviour?(behaviour: string | null): void;
}

export interface ControlServerOptions {
  readonly socketPath: string;
  readonly node: string;
  readonly version: string;
  readonly incarnation: number;
  readonly lease_ms: number;
  readonly events: EventBuffer;
  readonly filter: LinkFilter;
  readonly log: AgentLog;
  readonly handlers: ControlHandlers;
  readonly maxFrameBytes?: number;
  /**
   * With no orchestrator for this long, exit (after the lease healed everything): an agent
   * whose orchestrator died must not run forever. Null: wait to be reconnected, however long.
   */
  readonly orphanExit_ms?: number | null;
}

interface Connection {
  readonly socket: Socket;
  readonly decoder: FrameDecoder;
  /** Streaming starts with `hello`. */
  helloed: boolean;
  /** Highest seq written to this connection. */
  cursor: number;
  paused: boolean;
}

/**
 * The agent's end of the control channel: a Unix socket (mode 0600) in the work dir, one
 * orchestrator at a time (a new connection replaces the old one). Every inbound frame is
 * validated; a bad one is answered with `error` and counted, and only a misaligned byte
 * stream costs the connection. Events stream with backpressure; whatever is not acked
 * stays buffered for the next `hello`.
 */
export class ControlServer {
  private server: Server | null = null;
  private conn: Connection | null = null;
  private pumpScheduled: NodeJS.Timeout | null = null;
  private readonly deadMan: DeadManSwitch;
  private readonly orphan: DeadManSwitch | null;
  /** Frames refused (schema or framing), since creation. */
  invalidFrames = 0;
  connections = 0;

  constructor(private readonly options: ControlServerOptions) {
    this.deadMan = new DeadManSwitch(options.lease_ms, () => this.leaseExpired());
    const orphanExit_ms = options.orphanExit_ms ?? null;
    this.orphan =
      orphanExit_ms === null
        ? null
        : new DeadManSwitch(orphanExit_ms, () => {
            options.log.line(`no orchestrator for ${orphanExit_ms} ms: exiting (orphaned agent)`);
            options.handlers.shutdown();
          });
  }

  /** Events go through here: buffered, numbered, streamed to the orchestrator if connected. */
  emit(event: AgentEvent): number {
    return this.options.events.push(event);
  }

  async start(): Promise<void> {
    const path = this.options.socketPath;
    if (Buffer.byteLength(path) > MAX_UNIX_SOCKET_PATH) {
      throw new Error(
        `control socket path ${path} is ${Buffer.byteLength(path)} bytes; Unix sockets allow ` +
          `${MAX_UNIX_SOCKET_PATH}: choose a shorter work dir`,
      );
    }
    removeStaleSocket(path);
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new Error(`cannot listen on control socket ${path}: ${err.message}`)),
      );
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    server.on('error', (err) => this.options.log.line(`control socket error: ${err.message}`));
    this.options.events.onPush(() => this.schedulePump());
    this.armLeases();
  }

  private armLeases(): void {
    this.deadMan.arm();
    this.orphan?.arm();
  }

  private disarmLeases(): void {
    this.deadMan.disarm();
    this.orphan?.disarm();
  }

  get leaseArmed(): boolean {
    return this.deadMan.armed;
  }

  async close(): Promise<void> {
    this.disarmLeases();
    this.options.events.onPush(null);
    if (this.pumpScheduled !== null) clearTimeout(this.pumpScheduled);
    this.pumpScheduled = null;
    this.conn?.socket.destroy();
    this.conn = null;
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.options.socketPath, { force: true });
  }

  private onConnection(socket: Socket): void {
    this.connections++;
    const previous = this.conn;
    const conn: Connection = {
      socket,
      decoder: new FrameDecoder(this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
      helloed: false,
      cursor: 0,
      paused: false,
    };
    this.conn = conn;
    previous?.socket.destroy();
    this.disarmLeases();
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('drain', () => {
      conn.paused = false;
      this.pump();
    });
    socket.on('error', () => undefined); // 'close' follows and does the work
    socket.on('close', () => {
      if (this.conn !== conn) return;
      this.conn = null;
      if (this.server !== null) this.armLeases();
    });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (this.conn !== conn) return;
    let frames: unknown[];
    try {
      frames = conn.decoder.push(chunk);
    } catch (err) {
      this.invalidFrames++;
      const why = err instanceof FrameError ? err.message : String(err);
      this.send(conn, { t: 'error', message: `closing: the byte stream is not aligned (${why})` });
      conn.socket.end();
      setTimeout(() => conn.socket.destroy(), 100).unref();
      this.conn = null;
      if (this.server !== null) this.armLeases();
      return;
    }
    for (const raw of frames) {
      if (this.conn !== conn) return;
      const parsed = orchestratorFrameSchema.safeParse(raw);
      if (!parsed.success) {
        this.invalidFrames++;
        const issues = parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        this.send(conn, { t: 'error', message: `invalid frame: ${issues}` });
        continue;
      }
      try {
        this.handle(conn, parsed.data);
      } catch (err) {
        this.send(conn, {
          t: 'error',
          message: `${parsed.data.t} failed: ${(err as Error).message ?? String(err)}`,
        });
      }
    }
  }

  private handle(conn: Connection, frame: OrchestratorFrame): void {
    const { events, filter } = this.options;
    switch (frame.t) {
      case 'hello': {
        const same = frame.incarnation === this.options.incarnation;
        // The orchestrator has recorded up to lastSeq of this incarnation: that is an ack.
        if (same) events.ack(frame.lastSeq);
        conn.cursor = same ? Math.min(frame.lastSeq, events.lastSeq) : 0;
        conn.helloed = true;
        this.send(conn, {
          t: 'welcome',
          node: this.options.node,
          pid: process.pid,
          version: this.options.version,
          incarnation: this.options.incarnation,
          firstSeq: events.firstSeq,
          lastSeq: events.lastSeq,
        });
        this.pump();
        return;
      }
      case 'ack':
        events.ack(frame.seq);
        return;
      case 'ping':
        this.send(conn, { t: 'pong', id: frame.id, t0_ms: frame.t0_ms, agent_ms: wallClock_ms() });
        return;
      case 'set-links':
        filter.setRules(frame.faultId, frame.rules);
        this.emit({
          kind: 'link-faults',
          action: 'applied',
          faultId: frame.faultId,
          rules: frame.rules.length,
          reason: 'orchestrator',
        });
        return;
      case 'heal': {
        const rules = filter.ruleCount(frame.faultId ?? undefined);
        filter.heal(frame.faultId);
        this.emit({
          kind: 'link-faults',
          action: 'healed',
          faultId: frame.faultId,
          rules,
          reason: 'orchestrator',
        });
        return;
      }
      case 'start-workload': {
        const start = this.options.handlers.startWorkload;
        if (start === undefined) {
          throw new Error(`${this.options.node} is a replica; workloads run on workload agents`);
        }
        start(frame.spec);
        return;
      }
      case 'stop-workload': {
        const stop = this.options.handlers.stopWorkload;
        if (stop === undefined) {
          throw new Error(`${this.options.node} is a replica; it runs no workload`);
        }
        stop(frame.drain_ms);
        return;
      }
      case 'shutdown':
        this.options.handlers.shutdown();
        return;
      case 'set-behaviour': {
        const set = this.options.handlers.setBehaviour;
        if (set === undefined) {
          throw new Error(`${this.options.node} is a workload agent; only replicas turn Byzantine`);
        }
        set(frame.behaviour);
        return;
      }
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled !== null || this.conn === null || !this.conn.helloed) return;
    this.pumpScheduled = setTimeout(() => {
      this.pumpScheduled = null;
      this.pump();
    }, EVENT_BATCH_MS);
  }

  /** Write buffered events after the cursor until the socket pushes back. */
  private pump(): void {
    const conn = this.conn;
    if (conn === null || !conn.helloed || conn.paused || conn.socket.destroyed) return;
    const socket = conn.socket;
    // Encoded into one buffer and written once: two history events per client operation
    // made a socket.write per event a visible cost of the workload agent.
    const parts: Buffer[] = [];
    let bytes = 0;
    try {
      for (const frame of this.options.events.after(conn.cursor)) {
        const encoded = encodeFrame(frame);
        parts.push(encoded);
        bytes += encoded.length;
        conn.cursor = frame.seq;
        if (socket.writableLength + bytes > CONTROL_HIGH_WATER_BYTES) {
          conn.paused = true;
          break;
        }
      }
    } finally {
      if (parts.length > 0)
        socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes));
    }
  }

  private send(conn: Connection, frame: AgentFrame): void {
    if (conn.socket.destroyed) return;
    // Replies bypass the event backpressure; one that does not read them at all is gone.
    if (conn.socket.writableLength > 4 * CONTROL_HIGH_WATER_BYTES) {
      this.options.log.line('control connection dropped: the orchestrator stopped reading');
      conn.socket.destroy();
      return;
    }
    conn.socket.write(encodeFrame(frame));
  }

  private leaseExpired(): void {
    const healed = this.options.filter.heal(null);
    this.emit({ kind: 'lease-expired', healedFaults: healed });
    this.options.log.line(
      `lease expired after ${this.options.lease_ms} ms without an orchestrator: ` +
        `healed ${healed} link fault${healed === 1 ? '' : 's'}`,
    );
    this.options.handlers.leaseExpired?.();
  }
}

/** A socket file left by a killed agent blocks listen(); anything else there is not ours. */
function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new Error(
      `control socket path ${path} exists and is not a socket; refusing to remove it ` +
        '(check the work dir in agent.json)',
    );
  }
  rmSync(path, { force: true });
}
