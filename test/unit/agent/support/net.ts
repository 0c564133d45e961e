import { createServer } from 'node:net';

/** Ports the kernel hands out for 127.0.0.1 right now (closed again before returning). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** Poll `check` until it returns true or `timeout_ms` passes (then throws `what`). */
export async function waitFor(
  what: string,
  check: () => boolean,
  timeout_ms = 5_000,
  every_ms = 10,
): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every_ms));
  }
}
