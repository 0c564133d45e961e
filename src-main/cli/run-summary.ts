import { describeFault } from '../../src-node-agent/core/faults';
import type { Recording } from '../record/recording-reader';
import { percentile } from './stats';
import { formatTable } from './table';

/** The end-of-run summary of `faultlab run`: what the clients saw and what was broken. */
export function summarizeRecording(
  rec: Pick<Recording, 'records' | 'history' | 'manifest'>,
): string[] {
  const invoked = new Map<number, number>();
  const latencies_us: number[] = [];
  let ok = 0;
  let unknown = 0;
  let fail = 0;
  for (const h of rec.history) {
    if (h.type === 'invoke') invoked.set(h.opId, h.time_us);
    else if (h.type === 'ok') {
      ok++;
      const start = invoked.get(h.opId);
      if (start !== undefined) latencies_us.push(h.time_us - start);
    } else if (h.type === 'unknown') unknown++;
    else fail++;
  }
  latencies_us.sort((a, b) => a - b);
  const duration_s = (rec.manifest.duration_ms ?? 0) / 1000;
  const faults = rec.records.filter(
    (r) => r.type === 'fault' && r.phase === 'applied' && r.source !== 'stop',
  );
  const failedFaults = rec.records.filter((r) => r.type === 'fault' && r.phase === 'failed').length;
  // Paxos reports leader-elected; PBFT installs a view with its primary.
  const leaderKind = rec.records.some(
    (r) => r.type === 'protocol' && r.event.kind === 'leader-elected',
  )
    ? 'leader-elected'
    : 'view-installed';
  const seenViews = new Set<string>();
  const elections = rec.records.filter((r) => {
    if (r.type !== 'protocol' || r.event.kind !== leaderKind) return false;
    const key = `${String(r.event['view'])}/${String(r.event['leader'])}`;
    if (seenViews.has(key)) return false;
    seenViews.add(key);
    return true;
  });
  const leaders = elections.map((r) => (r.type === 'protocol' ? String(r.event['leader']) : ''));
  const ms = (us: number): string => (Number.isFinite(us) ? `${(us / 1000).toFixed(2)} ms` : '—');
  const rows: string[][] = [
    ['client operations', `${ok.toLocaleString('en-US')} ok, ${unknown} unknown, ${fail} failed`],
    [
      'throughput',
      duration_s > 0
        ? `${Math.round(ok / duration_s).toLocaleString('en-US')} ops/s over ${duration_s.toFixed(1)} s`
        : '—',
    ],
    [
      'latency',
      `p50 ${ms(percentile(latencies_us, 50))}, p99 ${ms(percentile(latencies_us, 99))}, max ${ms(latencies_us[latencies_us.length - 1] ?? Number.NaN)}`,
    ],
    [
      'faults applied',
      `${faults.length}${failedFaults > 0 ? ` (${failedFaults} failed to apply)` : ''}`,
    ],
    [
      'leaders elected',
      `${elections.length}${leaders.length > 0 ? ` (${leaders.join(' → ')})` : ''}`,
    ],
  ];
  const lines = formatTable(['run', 'summary'], rows);
  for (const f of faults) {
    if (f.type === 'fault')
      lines.push(
        `  ${(f.t_ms / 1000).toFixed(2).padStart(7)} s  ${f.source.padEnd(7)} ${describeFault(f.fault)}`,
      );
  }
  return lines;
}
