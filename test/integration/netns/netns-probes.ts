/**
 * Probes for the netns tests: small Node programs run INSIDE a node's namespace with
 * `ip netns exec`, so traffic really crosses the veths and the bridge. Every probe is bounded
 * in time; every long-running helper is tracked by PID and stopped by the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { findTool } from '../../../src-main/testbeds/netns/run-tool';

export const PROBE_TCP_PORT = 7000;
export const PROBE_UDP_PORT = 7001;
const PROBE_TIMEOUT_MS = 800;

/** Runs `node -e <script> ...args` in `namespace`; resolves with its stdout (exit code ignored). */
export function runInNamespace(namespace: string, script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      findTool('ip'),
      ['netns', 'exec', namespace, process.execPath, '-e', script, ...args],
      { timeout: 10_000 },
      (err, stdout, stderr) => {
        if (err !== null && stdout === '') {
          reject(new Error(`probe in ${namespace} failed: ${err.message} ${stderr}`));
        } else {
          resolve(stdout.trim());
        }
      },
    );
  });
}

const TCP_PROBE = `
const [host, port, ms] = process.argv.slice(1);
const c = require('node:net').connect(Number(port), host);
c.setTimeout(Number(ms), () => { console.log('timeout'); process.exit(0); });
c.on('data', (d) => { console.log('ok ' + String(d).trim()); process.exit(0); });
c.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
`;

/** "ok <greeting>" | "timeout" | "error <code>" for a TCP connect from `namespace`. */
export function tcpProbe(namespace: string, ip: string, port = PROBE_TCP_PORT): Promise<string> {
  return runInNamespace(namespace, TCP_PROBE, [ip, String(port), String(PROBE_TIMEOUT_MS)]);
}

const UDP_SEND = `
const [host, port, payload] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
s.send(payload, Number(port), host, (err) => { console.log(err ? 'error ' + err.code : 'sent'); s.close(); });
`;

export function udpSend(namespace: string, ip: string, payload: string): Promise<string> {
  return runInNamespace(namespace, UDP_SEND, [ip, String(PROBE_UDP_PORT), payload]);
}

/** First line of what the server at ip:port sends, from the ROOT namespace (the control path). */
export function bannerFromRoot(ip: string, port = 22): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection({ host: ip, port });
    const finish = (v: string): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(PROBE_TIMEOUT_MS * 2, () => finish('timeout'));
    s.on('data', (d: Buffer) => finish(d.toString('latin1').split('\n')[0]?.trim() ?? ''));
    s.on('error', (e: NodeJS.ErrnoException) => finish(`error ${e.code ?? e.message}`));
  });
}

const SERVER = `
const [host, name, tcpPort, udpPort] = process.argv.slice(1);
require('node:net').createServer((c) => c.end('hi from ' + name + '\\n')).listen(Number(tcpPort), host, () => {
  const u = require('node:dgram').createSocket('udp4');
  u.on('message', (m) => console.log('udp ' + String(m)));
  u.bind(Number(udpPort), host, () => console.log('ready'));
});
// Bounded even if the test forgets it: the whole file runs well under this.
setTimeout(() => process.exit(0), 300000).unref();
`;

/** A TCP greeter + UDP receiver in a node's namespace; received datagrams are read over stdout. */
export class ProbeServer {
  readonly received: string[] = [];
  private constructor(readonly child: ChildProcess) {}

  static start(namespace: string, ip: string, name: string): Promise<ProbeServer> {
    const child = spawn(
      findTool('ip'),
      [
        'netns',
        'exec',
        namespace,
        process.execPath,
        '-e',
        SERVER,
        ip,
        name,
        String(PROBE_TCP_PORT),
        String(PROBE_UDP_PORT),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const server = new ProbeServer(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`probe server in ${namespace} not ready in 10 s`)),
        10_000,
      );
      child.once('exit', (code) =>
        reject(new Error(`probe server in ${namespace} exited ${code}`)),
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve(server);
        } else if (line.startsWith('udp ')) {
          server.received.push(line.slice(4));
        }
      });
    });
  }

  /** Wait up to `ms` for a datagram with this payload. */
  async sawDatagram(payload: string, ms = 600): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.received.includes(payload)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.received.includes(payload);
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

/** stdout of a system command (for inspecting `ip`, `nft`, `tc` state). */
export function capture(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${file} ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}
