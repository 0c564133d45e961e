import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_REQUEST_BYTES, type ApiMethod, type RunInfo } from '../api/api-schema';
import { contentSecurityPolicy } from '../electron/content-security-policy';
import { ApiConnection } from './api-connection';
import { PassphraseRequests } from './passphrase-requests';
import type { PushTarget } from './push-target';
import { testbedAvailability } from './testbed-availability';
import { apiHandlers } from './api-handlers';
import { prepareFrame } from './api-router';
import { guardRequest, newToken, tokenCookie } from './http-guard';
import { RunRegistry } from './run/run-registry';
import { notBuiltText, readRendererAsset } from './static-assets';

/** Methods answered as soon as they come instead of in turn (see the message handler). */
const CONCURRENT_METHODS: ReadonlySet<ApiMethod> = new Set([
  'preflight.run',
  'ssh.passphrase',
  // Opening a shell over SSH takes a round trip or more; no later frame can name it before
  // its answer, and the other terminals' input and acks must not wait behind it.
  'terminal.open',
]);

export interface ApiServerOptions {
  /** 0: an ephemeral port. */
  readonly port: number;
  readonly runsDir: string;
  readonly labsDir: string;
  /** The built dashboard (out/renderer/). */
  readonly rendererRoot: string;
  readonly version: string;
  /** Served inside the Electron window (the page shows desktop-only actions). */
  readonly desktop?: boolean;
  /** Fixed token (tests); a random one per start otherwise. */
  readonly token?: string;
}

export interface ApiServer {
  readonly port: number;
  readonly origin: string;
  readonly token: string;
  /** The URL to open: it carries the token, which the page trades for a cookie. */
  readonly url: string;
  readonly runs: RunRegistry;
  /** Stop every run (healing faults), close terminals and sockets, stop listening. */
  close(reason?: string): Promise<void>;
}

/**
 * The orchestrator's front door on 127.0.0.1: the built dashboard over http and the api over
 * a WebSocket at /api, both behind the per-start token, the Host check and (for the socket)
 * the Origin check (http-guard.ts).
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const token = options.token ?? newToken();
  const connections = new Set<ApiConnection>();
  const broadcastInfo = (info: RunInfo): void => {
    for (const c of connections) c.push({ push: 'run-info', info });
  };
  const everyPage: PushTarget = {
    id: 'every-page',
    push: (message) => {
      for (const c of connections) c.push(message);
    },
    congested: () => false,
  };
  const runPassphrases = new PassphraseRequests(everyPage, 'for runs');
  const runs = new RunRegistry({
    runsDir: options.runsDir,
    labsDir: options.labsDir,
    version: options.version,
    onInfo: broadcastInfo,
  });
  const handlers = apiHandlers({
    runs,
    runsDir: options.runsDir,
    labsDir: options.labsDir,
    version: options.version,
    desktop: options.desktop === true,
    notices: [],
    testbeds: testbedAvailability(),
    runPassphrases,
  });

  let port = options.port;
  const http = createServer((req, res) => void serveHttp(req, res));
  // Frames a little over MAX_REQUEST_BYTES get an error response (routeFrame) and the socket
  // stays; far larger ones are cut off by ws itself (close 1009) before being buffered whole.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MAX_REQUEST_BYTES });

  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = guardRequest(req, { token, port, upgrade: false });
    if (!verdict.ok) return plain(res, verdict.status, verdict.reason);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return plain(
        res,
        405,
        `method ${req.method ?? '?'} not allowed; the dashboard is read with GET`,
      );
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/api')
      return plain(res, 426, 'the api at /api is a WebSocket; connect with ws://');
    const asset = await readRendererAsset(url.pathname, options.rendererRoot);
    const headers = securityHeaders(port);
    if (verdict.tokenFromQuery) headers['Set-Cookie'] = tokenCookie(token);
    if (!asset.ok) {
      const text = asset.status === 503 ? notBuiltText(options.rendererRoot) : asset.text;
      return plain(res, asset.status, text, headers);
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': asset.contentType,
      'Content-Length': String(asset.body.length),
      // The token-bearing page must not be cached anywhere; hashed assets may be.
      'Cache-Control':
        url.pathname === '/' || url.pathname.endsWith('.html')
          ? 'no-store'
          : 'private, max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const verdict =
      url.pathname === '/api'
        ? guardRequest(req, { token, port, upgrade: true })
        : ({
            ok: false,
            status: 404,
            reason: `no WebSocket at ${url.pathname}; the api is at /api`,
          } as const);
    if (!verdict.ok) {
      const status = verdict.status;
      const body = `${verdict.reason}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    const connection = new ApiConnection(ws);
    connections.add(connection);
    // Requests on one connection are answered in order (a seek after a play, input after open).
    let chain: Promise<void> = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.send(
          JSON.stringify({
            id: -1,
            ok: false,
            error: {
              code: 'bad-request',
              message: 'binary frames are not part of the api; send JSON text frames',
            },
          }),
        );
        return;
      }
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      const frame = prepareFrame(text, handlers, connection);
      const answer = async (): Promise<void> => {
        const response = await frame.respond();
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(response));
      };
      // One request at a time per page, in order (terminal input, playback seeks), except the
      // long independent ones: a preflight that takes seconds must not hold up the rest, and
      // its own passphrase question must be answerable while it waits.
      if (frame.method !== null && CONCURRENT_METHODS.has(frame.method)) void answer();
      else chain = chain.then(answer);
    });
    ws.on('close', () => {
      connections.delete(connection);
      connection.dispose();
    });
    ws.on('error', () => {
      // A frame over maxPayload or a broken socket: ws closes it (1009 for too big); the
      // close handler releases everything.
    });
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | null = null;
  return {
    port,
    origin,
    token,
    url: `${origin}/?token=${token}`,
    runs,
    close: (reason = 'the server is shutting down') =>
      (closing ??= (async () => {
        runPassphrases.dispose();
        await runs.shutdown(reason);
        for (const c of connections) c.dispose();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })()),
  };
}

function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy('production', 'header', [
      `ws://127.0.0.1:${port}`,
      `ws://localhost:${port}`,
    ]),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

function plain(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
  });
  res.end(`${text}\n`);
}
