import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on `host`. Racy by nature (another process may take
 * it before the agent binds); the agent then fails to start with EADDRINUSE and says so.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port found'))));
    });
  });
}
