import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  bandwidthClientCommand,
  echoServerCommand,
  parseBandwidth,
  parseRttSamples,
  rttClientCommand,
} from '../../../src-main/preflight/remote-probes';

/**
 * The preflight's probe scripts, run here through sh exactly as a host runs them over SSH
 * exec (same quoting, same node), on loopback: the probe server echoes for RTT and sinks for
 * bandwidth on the same port.
 */
const run = promisify(execFile);

async function withProbeServer(work: (port: number) => Promise<void>): Promise<void> {
  const server = spawn('/bin/sh', ['-c', echoServerCommand(process.execPath, '127.0.0.1', 30)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      server.once('exit', (code) => reject(new Error(`probe server exited ${code}`)));
    });
    await work(port);
  } finally {
    // EOF on its stdin ends it, as the end of the SSH channel does.
    server.stdin.end();
    if (server.exitCode === null) await new Promise((r) => server.once('exit', r));
  }
}

describe('preflight probe scripts', () => {
  it('measures RTT and bandwidth against one probe server', async () => {
    await withProbeServer(async (port) => {
      const rtt = await run('/bin/sh', [
        '-c',
        rttClientCommand(process.execPath, '127.0.0.1', port, 10, 5_000),
      ]);
      const samples = parseRttSamples(rtt.stdout);
      expect(Array.isArray(samples) && samples.length).toBe(10);

      const bw = await run('/bin/sh', [
        '-c',
        bandwidthClientCommand(process.execPath, '127.0.0.1', port, 150, 64 * 1024 * 1024, 5_000),
      ]);
      const b = parseBandwidth(bw.stdout);
      if (typeof b === 'string') throw new Error(`bandwidth probe failed: ${b}`);
      expect(b.bytes).toBeGreaterThan(65_536);
      expect(b.bytes).toBeLessThanOrEqual(64 * 1024 * 1024 + 65_536);
      expect(b.mbps).toBeGreaterThan(10);
    });
  }, 30_000);

  it("stops sending at the byte cap and still gets the sink's answer", async () => {
    await withProbeServer(async (port) => {
      const bw = await run('/bin/sh', [
        '-c',
        bandwidthClientCommand(process.execPath, '127.0.0.1', port, 400, 1024 * 1024, 8_000),
      ]);
      const b = parseBandwidth(bw.stdout);
      if (typeof b === 'string') throw new Error(`bandwidth probe failed: ${b}`);
      expect(b.bytes).toBe(1024 * 1024);
    });
  }, 30_000);

  it('reports a refused connection and rejects a garbled answer', async () => {
    const r = await run('/bin/sh', [
      '-c',
      bandwidthClientCommand(process.execPath, '127.0.0.1', 1, 100, 1024, 2_000),
    ]).catch((e: { stdout: string }) => e);
    expect(parseBandwidth(r.stdout)).toMatch(/ECONNREFUSED/);
    expect(parseBandwidth('{"bytes":0,"ms":3}')).toMatch(/unexpected output/);
    expect(parseBandwidth('hello')).toMatch(/unexpected output/);
    expect(parseBandwidth('{"bytes":1250000,"ms":10}')).toEqual({
      mbps: 1000,
      bytes: 1_250_000,
      ms: 10,
    });
  });
});
