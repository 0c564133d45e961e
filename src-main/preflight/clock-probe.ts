import { performance } from 'node:perf_hooks';
import type { ClientChannel } from 'ssh2';
import type { SshConnection } from '../ssh/ssh-connection';
import { CLOCK_COMMAND, parseClock } from './remote-probes';

const CLOCK_SAMPLES = 5;
/** One `date` per line read; ends with its stdin. */
const CLOCK_LOOP_COMMAND = `while read -r _; do ${CLOCK_COMMAND}; done`;

const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * A host's clock against this machine's: `date +%s%N` in a shell kept open on the host, asked
 * five times. Each sample is one round trip on an open channel (an exec would add channel
 * setup, all on one side of the midpoint); the best gives offset = remote − midpoint, ± half
 * its round trip. A string is why it could not be measured.
 */
export async function measureClockOffset(
  conn: SshConnection,
): Promise<{ offset_ms: number; uncertainty_ms: number } | string> {
  let best: { offset_ms: number; uncertainty_ms: number } | null = null;
  let channel: ClientChannel | null = null;
  try {
    channel = await conn.execStream(CLOCK_LOOP_COMMAND);
    const lines = lineReader(channel);
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const t0 = nowMs();
      channel.write('\n');
      const line = await lines.next(10_000);
      const t1 = nowMs();
      const remote = parseClock(line);
      if (remote === null) {
        return `"${CLOCK_COMMAND}" printed "${line.trim().slice(0, 40)}"; clock offset unknown`;
      }
      const offset_ms = Number(remote / 1000n) / 1000 - (t0 + t1) / 2;
      const uncertainty_ms = (t1 - t0) / 2;
      if (best === null || uncertainty_ms < best.uncertainty_ms)
        best = { offset_ms, uncertainty_ms };
    }
  } catch (e) {
    return `clock offset unknown: ${(e as Error).message}`;
  } finally {
    channel?.end();
    channel?.close();
  }
  return best ?? 'clock offset unknown: no sample';
}

/** Lines of a channel's stdout, one at a time, each with a deadline. */
function lineReader(channel: ClientChannel): { next(timeout_ms: number): Promise<string> } {
  let buffered = '';
  let waiter: ((line: string | Error) => void) | null = null;
  const deliver = (): void => {
    const nl = buffered.indexOf('\n');
    if (nl < 0 || waiter === null) return;
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const w = waiter;
    waiter = null;
    w(line);
  };
  channel.on('data', (d: Buffer) => {
    // A line is 20 bytes; anything this long is not what we asked for.
    if (buffered.length < 4096) buffered += d.toString('utf8');
    deliver();
  });
  channel.on('close', () => waiter?.(new Error('the shell on the host exited')));
  return {
    next: (timeout_ms) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`no answer within ${timeout_ms} ms`));
        }, timeout_ms);
        waiter = (v) => {
          clearTimeout(timer);
          if (v instanceof Error) reject(v);
          else resolve(v);
        };
        deliver();
      }),
  };
}
