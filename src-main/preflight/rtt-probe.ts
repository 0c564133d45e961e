import type { ClientChannel } from 'ssh2';
import type { SshConnection } from '../ssh/ssh-connection';
import {
  bandwidthClientCommand,
  echoServerCommand,
  median,
  parseBandwidth,
  parseRttSamples,
  rttClientCommand,
} from './remote-probes';

/**
 * RTT and bandwidth between two hosts as the agents would see them: a probe server on one
 * host's agent address, a client on the other timing one-byte round trips over TCP, or
 * streaming to it for a moment; both started with the hosts' own node over SSH exec.
 */

export interface ProbeHost {
  readonly name: string;
  readonly address: string;
  readonly nodePath: string;
  readonly connection: SshConnection;
}

export interface EchoServer {
  readonly port: number;
  close(): void;
}

const ECHO_LIFETIME_S = 120;
const PORT_WAIT_MS = 15_000;

/** Start the echo server and wait for the port it prints. */
export async function startEchoServer(host: ProbeHost): Promise<EchoServer> {
  const channel: ClientChannel = await host.connection.execStream(
    echoServerCommand(host.nodePath, host.address, ECHO_LIFETIME_S),
  );
  const close = (): void => {
    // EOF on its stdin ends the server; close() releases the channel if it lingers.
    channel.end();
    channel.close();
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(
        () => reject(new Error(`no port printed within ${PORT_WAIT_MS} ms`)),
        PORT_WAIT_MS,
      );
      channel.stderr.on('data', (d: Buffer) => {
        if (err.length < 4096) err += d.toString('utf8');
      });
      channel.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        const line = out.split('\n')[0];
        if (out.includes('\n') && line !== undefined) {
          clearTimeout(timer);
          const port = Number(line.trim());
          if (Number.isInteger(port) && port > 0) resolve(port);
          else reject(new Error(`printed "${line.slice(0, 80)}" instead of a port`));
        }
      });
      channel.on('close', () => {
        clearTimeout(timer);
        reject(new Error(`exited before listening: ${err.trim().slice(0, 300) || 'no message'}`));
      });
    });
    return { port, close };
  } catch (e) {
    close();
    throw new Error(
      `cannot listen on ${host.address} on ${host.name} for the RTT probe: ${(e as Error).message}`,
    );
  }
}

export interface RttMeasurement {
  readonly median_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
  readonly samples: number;
}

/** `from` connects to `to`'s echo server; a string is why it could not. */
export async function measureRtt(
  from: ProbeHost,
  to: ProbeHost,
  server: EchoServer,
  samples: number,
  timeout_ms: number,
): Promise<RttMeasurement | string> {
  let r;
  try {
    r = await from.connection.exec(
      rttClientCommand(from.nodePath, to.address, server.port, samples, timeout_ms),
      { timeoutMs: timeout_ms + 10_000 },
    );
  } catch (e) {
    return (e as Error).message;
  }
  const parsed = parseRttSamples(r.stdout);
  if (typeof parsed === 'string')
    return r.stderr.trim() === '' ? parsed : `${parsed}; ${r.stderr.trim().slice(0, 200)}`;
  return {
    median_ms: median(parsed),
    min_ms: Math.min(...parsed),
    max_ms: Math.max(...parsed),
    samples: parsed.length,
  };
}

export interface BandwidthMeasurement {
  readonly mbps: number;
  readonly bytes: number;
  readonly ms: number;
}

/** `from` streams to `to`'s probe server for `duration_ms`; a string is why it could not. */
export async function measureBandwidth(
  from: ProbeHost,
  to: ProbeHost,
  server: EchoServer,
  duration_ms: number,
  cap_bytes: number,
  timeout_ms: number,
): Promise<BandwidthMeasurement | string> {
  let r;
  try {
    r = await from.connection.exec(
      bandwidthClientCommand(
        from.nodePath,
        to.address,
        server.port,
        duration_ms,
        cap_bytes,
        timeout_ms,
      ),
      { timeoutMs: timeout_ms + 10_000 },
    );
  } catch (e) {
    return (e as Error).message;
  }
  const parsed = parseBandwidth(r.stdout);
  if (typeof parsed === 'string')
    return r.stderr.trim() === '' ? parsed : `${parsed}; ${r.stderr.trim().slice(0, 200)}`;
  return parsed;
}
