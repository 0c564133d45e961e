import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { cpus } from 'node:os';

/** What one message between two Node processes on loopback TCP costs on this machine. */
export interface MessageFloor {
  readonly roundTrips: number;
  readonly rttP50_us: number;
  /** CPU time of both processes (user + system) per one-way message. */
  readonly cpuPerMessage_us: number;
  /** Share of that CPU time spent in the kernel (sending, waking the receiver, receiving). */
  readonly kernelShare: number;
  readonly cores: number;
}

/** The echo side: replies to every chunk, and reports its own CPU time when the client leaves. */
const ECHO_SERVER = `
const net = require('node:net');
let cpu0 = null;
const server = net.createServer({ noDelay: true }, (c) => {
  cpu0 = process.cpuUsage();
  c.on('data', (d) => c.write(d));
  c.on('error', () => {});
  c.on('close', () => { process.send(process.cpuUsage(cpu0), () => process.exit(0)); });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

/**
 * Ping-pong of 200-byte messages between this process and a child Node process over loopback
 * TCP (Nagle off), one message in flight: the least any message-passing protocol on this
 * machine pays per message, before any JSON, MAC or protocol logic. Benchmarks print it beside
 * their own figures, so a reader can tell the machine's floor from the code's cost.
 */
export async function measureMessageFloor(roundTrips = 20_000): Promise<MessageFloor> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve(Number(m)));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`echo server exited early (code ${code})`)));
    });
    const serverCpu = new Promise<NodeJS.CpuUsage>((resolve) =>
      child.once('message', (m) => resolve(m as NodeJS.CpuUsage)),
    );
    const rtts: number[] = [];
    const clientCpu = await new Promise<NodeJS.CpuUsage>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      const payload = Buffer.alloc(200, 0x61);
      let cpu0 = process.cpuUsage();
      let sent = 0n;
      const send = (): void => {
        sent = process.hrtime.bigint();
        socket.write(payload);
      };
      socket.on('error', reject);
      socket.on('connect', () => {
        cpu0 = process.cpuUsage();
        send();
      });
      socket.on('data', () => {
        rtts.push(Number(process.hrtime.bigint() - sent) / 1_000);
        if (rtts.length < roundTrips) send();
        else {
          const used = process.cpuUsage(cpu0);
          socket.end();
          resolve(used);
        }
      });
    });
    const server = await serverCpu;
    rtts.sort((a, b) => a - b);
    const total_us = clientCpu.user + clientCpu.system + server.user + server.system;
    return {
      roundTrips,
      rttP50_us: rtts[Math.floor(rtts.length / 2)] ?? Number.NaN,
      cpuPerMessage_us: total_us / (2 * roundTrips),
      kernelShare: (clientCpu.system + server.system) / total_us,
      cores: cpus().length,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

export function formatMessageFloor(floor: MessageFloor): string {
  return (
    `loopback floor (this machine, ${floor.cores} cores): one message between two Node processes ` +
    `costs ${floor.cpuPerMessage_us.toFixed(1)} µs of CPU (${Math.round(floor.kernelShare * 100)}% ` +
    `in the kernel); round trip p50 ${floor.rttP50_us.toFixed(1)} µs (${floor.roundTrips} round trips)`
  );
}
