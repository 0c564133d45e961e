import { createConnection, type Socket } from 'node:net';
import {
  agentFrameSchema,
  type AgentFrame,
  type OrchestratorFrame,
} from '../../../../src-node-agent/control/frames';
import { encodeFrame, FrameDecoder } from '../../../../src-node-agent/runtime/framing';

/**
 * A minimal orchestrator end of the control channel for tests: framing + the frames
 * schema, every received frame validated and kept in order.
 */
export class TestControlClient {
  readonly frames: AgentFrame[] = [];
  readonly invalid: unknown[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.decoder.push(chunk)) {
        const parsed = agentFrameSchema.safeParse(raw);
        if (parsed.success) this.frames.push(parsed.data);
        else this.invalid.push(raw);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(path: string): Promise<TestControlClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new TestControlClient(socket));
      });
    });
  }

  send(frame: OrchestratorFrame): void {
    this.socket.write(encodeFrame(frame));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  events(): Extract<AgentFrame, { t: 'event' }>[] {
    return this.frames.filter((f): f is Extract<AgentFrame, { t: 'event' }> => f.t === 'event');
  }

  ofType<T extends AgentFrame['t']>(t: T): Extract<AgentFrame, { t: T }>[] {
    return this.frames.filter((f): f is Extract<AgentFrame, { t: T }> => f.t === t);
  }

  close(): void {
    this.socket.destroy();
  }
}
