import WebSocket from 'ws';
import {
  apiPushSchema,
  apiResponseSchema,
  type ApiMethod,
  type ApiParams,
  type ApiPush,
  type ApiResult,
  type ApiResponse,
} from '../../../src-main/api/api-schema';

/**
 * A minimal api client for tests: the same frames the page sends, every incoming frame
 * validated against the contract (a server bug that breaks the schema fails the test).
 */
export class ApiTestClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ApiResponse) => void>();
  readonly pushes: ApiPush[] = [];
  readonly orphanResponses: ApiResponse[] = [];
  private pushWaiters: { match: (p: ApiPush) => boolean; resolve: (p: ApiPush) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const json = JSON.parse(String(data)) as Record<string, unknown>;
      if ('push' in json) {
        const push = apiPushSchema.parse(json);
        this.pushes.push(push);
        this.pushWaiters = this.pushWaiters.filter((w) => {
          if (!w.match(push)) return true;
          w.resolve(push);
          return false;
        });
        return;
      }
      const response = apiResponseSchema.parse(json);
      const waiter = this.waiting.get(response.id);
      if (waiter === undefined) this.orphanResponses.push(response);
      else {
        this.waiting.delete(response.id);
        waiter(response);
      }
    });
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<ApiTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(new ApiTestClient(ws)));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The next response that nobody waits for (e.g. to a raw frame). */
  async nextOrphan(timeout_ms = 5_000): Promise<ApiResponse> {
    const deadline = Date.now() + timeout_ms;
    while (this.orphanResponses.length === 0) {
      if (Date.now() > deadline) throw new Error('no response within the timeout');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.orphanResponses.shift() as ApiResponse;
  }

  call<M extends ApiMethod>(
    method: M,
    params: ApiParams<M>,
    timeout_ms = 30_000,
  ): Promise<ApiResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${method}: no response in ${timeout_ms} ms`)),
        timeout_ms,
      );
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Call and return the result, failing with the server's error message otherwise. */
  async ok<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    const r = await this.call(method, params);
    if (!r.ok) throw new Error(`${method} failed: ${r.error.code}: ${r.error.message}`);
    return r.result as ApiResult<M>;
  }

  waitForPush(match: (p: ApiPush) => boolean, timeout_ms = 30_000): Promise<ApiPush> {
    const already = this.pushes.find(match);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('push did not arrive in time')), timeout_ms);
      this.pushWaiters.push({
        match,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

export function wsUrl(
  origin: string,
  token: string,
): { url: string; headers: Record<string, string> } {
  return {
    url: `${origin.replace('http://', 'ws://')}/api?token=${token}`,
    headers: { Origin: origin },
  };
}
