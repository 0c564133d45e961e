import type { Duplex } from 'node:stream';
import {
  parseAgentFrame,
  type AgentEvent,
  type AgentFrame,
  type OrchestratorFrame,
} from '../../src-node-agent/control/frames';
import { encodeFrame, FrameDecoder, FrameError } from '../../src-node-agent/runtime/framing';
import type { NodeId } from '../../src-node-agent/core/ids';
import { wallClock_ms } from '../../src-node-agent/runtime/clock';

export interface AgentLinkHandlers {
  /** Called exactly once per (incarnation, seq), in seq order. */
  onEvent(node: NodeId, incarnation: number, seq: number, time_ms: number, event: AgentEvent): void;
  onConnected(
    node: NodeId,
    welcome: Extract<AgentFrame, { t: 'welcome' }>,
    newIncarnation: boolean,
  ): void;
  onDisconnected(node: NodeId, reason: string): void;
  onProblem(node: NodeId, text: string): void;
}

export interface ClockSample {
  /** Agent clock minus orchestrator clock, ms. */
  readonly offset_ms: number;
  readonly rtt_ms: number;
}

const ACK_INTERVAL_MS = 100;
const MAX_QUEUED_COMMANDS = 1_000;
const RECONNECT_MAX_MS = 1_000;

/**
 * The orchestrator's end of one agent's control channel. Exactly-once delivery of agent events
 * across reconnects: it remembers the last seq it passed on per agent incarnation, says so in
 * `hello`, drops anything at or below it, and acks what it has recorded. Commands sent while
 * disconnected wait (bounded) for the next connection.
 */
export class AgentLink {
  private socket: Duplex | null = null;
  private incarnation = -1;
  private lastSeq = 0;
  private ackedSeq = 0;
  private closing = false;
  private connecting: Promise<void> | null = null;
  private readonly queued: OrchestratorFrame[] = [];
  private ackTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay_ms = 50;
  private pingId = 0;
  private readonly pings = new Map<number, (sample: ClockSample) => void>();
  private welcomeWaiter:
    ((frame: Extract<AgentFrame, { t: 'welcome' }>, newIncarnation: boolean) => void) | null = null;
  gaps = 0;
  duplicates = 0;

  constructor(
    readonly node: NodeId,
    private readonly connectStream: () => Promise<Duplex>,
    private readonly handlers: AgentLinkHandlers,
    /** Whether reconnecting makes sense now (the process is alive). */
    private readonly shouldReconnect: () => boolean,
    /**
     * Makes what was passed to `onEvent` so far durable (the recording's flush). An event is
     * acked — and so dropped by the agent — only after it, so a crashing orchestrator cannot
     * lose an event that the agent already forgot. Resolves false when nothing can be made
     * durable yet (no recording open): then nothing is acked.
     */
    private readonly persistReceived: () => Promise<boolean> = () => Promise.resolve(true),
  ) {}

  get connected(): boolean {
    return this.socket !== null;
  }

  get lastSequence(): { incarnation: number; seq: number } {
    return { incarnation: this.incarnation, seq: this.lastSeq };
  }

  /** Connect, say hello, and wait for the agent's welcome. */
  connect(): Promise<void> {
    if (this.connecting !== null) return this.connecting;
    this.connecting = this.doConnect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  send(frame: OrchestratorFrame): void {
    if (this.socket !== null) {
      this.socket.write(encodeFrame(frame));
      return;
    }
    if (this.queued.length >= MAX_QUEUED_COMMANDS) {
      this.handlers.onProblem(
        this.node,
        `command queue full while disconnected; dropped a ${frame.t}`,
      );
      return;
    }
    this.queued.push(frame);
  }

  /** Estimate the agent's clock offset: the sample with the smallest RTT of `samples`. */
  async measureClock(samples = 7): Promise<ClockSample> {
    let best: ClockSample | null = null;
    for (let i = 0; i < samples; i++) {
      const sample = await new Promise<ClockSample>((resolve, reject) => {
        const id = ++this.pingId;
        const timer = setTimeout(() => {
          this.pings.delete(id);
          reject(new Error(`agent ${this.node} did not answer a clock ping within 2 s`));
        }, 2_000);
        this.pings.set(id, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
        this.send({ t: 'ping', id, t0_ms: wallClock_ms() });
      });
      if (best === null || sample.rtt_ms < best.rtt_ms) best = sample;
    }
    return best as ClockSample;
  }

  /** For bad-input tests: put raw bytes on the control stream as a broken peer would. */
  sendRaw(bytes: Buffer): void {
    this.socket?.write(bytes);
  }

  /** Drop the connection as a network blip would; the link reconnects by itself. */
  dropConnection(): void {
    this.socket?.destroy();
  }

  close(): void {
    this.closing = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.stopAcks();
    this.socket?.end();
    this.socket?.destroy();
    this.socket = null;
  }

  private async doConnect(): Promise<void> {
    const socket = await this.connectStream();
    if (this.closing) {
      socket.destroy();
      return;
    }
    const decoder = new FrameDecoder();
    type Welcome = { frame: Extract<AgentFrame, { t: 'welcome' }>; newIncarnation: boolean };
    const welcome = new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`agent ${this.node} sent no welcome within 5 s`)),
        5_000,
      );
      this.welcomeWaiter = (frame, newIncarnation) => {
        clearTimeout(timer);
        resolve({ frame, newIncarnation });
      };
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`agent ${this.node} closed the control connection before its welcome`));
      });
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        const reason = err instanceof FrameError ? err.message : String(err);
        this.handlers.onProblem(
          this.node,
          `control stream from agent is corrupt (${reason}); reconnecting`,
        );
        socket.destroy();
        return;
      }
      for (const raw of frames) this.onFrame(raw);
    });
    socket.on('error', () => undefined); // 'close' follows and handles it
    socket.once('close', () => this.onClose(socket));
    socket.write(
      encodeFrame({
        t: 'hello',
        incarnation: Math.max(0, this.incarnation),
        lastSeq: this.lastSeq,
      }),
    );
    const { frame, newIncarnation } = await welcome;
    this.socket = socket;
    this.reconnectDelay_ms = 50;
    for (const f of this.queued.splice(0)) socket.write(encodeFrame(f));
    this.startAcks();
    this.handlers.onConnected(this.node, frame, newIncarnation);
  }

  private onFrame(raw: unknown): void {
    const parsed = parseAgentFrame(raw);
    if (!parsed.success) {
      this.handlers.onProblem(
        this.node,
        `invalid frame from agent: ${parsed.error.issues[0]?.message ?? ''}`,
      );
      return;
    }
    const frame = parsed.data;
    switch (frame.t) {
      case 'welcome': {
        // Adopt the incarnation before the resent events that follow in the same chunk.
        const newIncarnation = frame.incarnation !== this.incarnation;
        if (newIncarnation) {
          this.incarnation = frame.incarnation;
          this.lastSeq = 0;
          this.ackedSeq = 0;
        }
        this.welcomeWaiter?.(frame, newIncarnation);
        this.welcomeWaiter = null;
        return;
      }
      case 'event':
        if (frame.seq <= this.lastSeq) {
          this.duplicates++;
          return;
        }
        if (frame.seq !== this.lastSeq + 1) {
          this.gaps++;
          this.handlers.onProblem(
            this.node,
            `event sequence gap: expected ${this.lastSeq + 1}, got ${frame.seq}`,
          );
        }
        this.lastSeq = frame.seq;
        this.handlers.onEvent(this.node, this.incarnation, frame.seq, frame.time_ms, frame.e);
        return;
      case 'pong': {
        const now = wallClock_ms();
        const rtt_ms = now - frame.t0_ms;
        const done = this.pings.get(frame.id);
        this.pings.delete(frame.id);
        done?.({ rtt_ms, offset_ms: frame.agent_ms - (frame.t0_ms + rtt_ms / 2) });
        return;
      }
      case 'error':
        this.handlers.onProblem(this.node, `agent reported: ${frame.message}`);
        return;
    }
  }

  private onClose(socket: Duplex): void {
    if (this.socket === socket) this.socket = null;
    this.stopAcks();
    if (this.closing) return;
    this.handlers.onDisconnected(this.node, 'control connection closed');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closing || this.socket !== null) return;
      if (!this.shouldReconnect()) return; // the testbed restarts it and calls connect()
      this.connect().catch((err: Error) => {
        this.handlers.onProblem(this.node, `reconnect failed: ${err.message}`);
        this.reconnectDelay_ms = Math.min(RECONNECT_MAX_MS, this.reconnectDelay_ms * 2);
        this.scheduleReconnect();
      });
    }, this.reconnectDelay_ms);
  }

  private startAcks(): void {
    this.stopAcks();
    let inFlight = false;
    this.ackTimer = setInterval(() => {
      if (inFlight || this.socket === null || this.lastSeq <= this.ackedSeq) return;
      inFlight = true;
      const incarnation = this.incarnation;
      const upTo = this.lastSeq;
      this.persistReceived()
        .then((durable) => {
          if (!durable) return;
          if (this.socket === null || this.incarnation !== incarnation || upTo <= this.ackedSeq)
            return;
          this.ackedSeq = upTo;
          this.socket.write(encodeFrame({ t: 'ack', seq: upTo }));
        })
        .catch((err: Error) =>
          this.handlers.onProblem(
            this.node,
            `not acking: the recording could not be flushed (${err.message})`,
          ),
        )
        .finally(() => {
          inFlight = false;
        });
    }, ACK_INTERVAL_MS);
  }

  private stopAcks(): void {
    if (this.ackTimer !== null) clearInterval(this.ackTimer);
    this.ackTimer = null;
  }
}
