import type { SocketLike } from '../../../src-renderer/api/client';

/**
 * A WebSocket double driven by the test: it records what the client sends and lets the test
 * play the server (open, answer, push, close). The client under test is the real ApiClient.
 */
export class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('FakeSocket.send while not open');
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    this.serverCloses(code, reason);
  }

  serverOpens(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverCloses(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  serverSends(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  requests(): { id: number; method: string; params: unknown }[] {
    return this.sent.map((s) => JSON.parse(s) as { id: number; method: string; params: unknown });
  }

  lastRequest(): { id: number; method: string; params: unknown } {
    const all = this.requests();
    const last = all[all.length - 1];
    if (last === undefined) throw new Error('FakeSocket: nothing was sent');
    return last;
  }

  /** Answers the last request successfully. */
  answer(result: unknown): void {
    this.serverSends({ id: this.lastRequest().id, ok: true, result });
  }
}

/** A socket factory that remembers every socket it made, newest last. */
export function socketFactory(): { sockets: FakeSocket[]; create: (url: string) => FakeSocket } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    create: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
  };
}
