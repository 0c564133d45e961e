import type { LiveStatus } from '../orchestrator/run-controller';

/** One line: elapsed, ops/s, p99, leader, active faults, checks so far. */
export function formatStatus(s: LiveStatus, duration_ms: number): string {
  const elapsed = `${(s.elapsed_ms / 1000).toFixed(0).padStart(3)}/${(duration_ms / 1000).toFixed(0)}s`;
  const ops = `${Math.round(s.opsPerSecond).toLocaleString('en-US').padStart(7)} ops/s`;
  const p99 = `p99 ${s.p99_us === null ? '—' : `${(s.p99_us / 1000).toFixed(1)}ms`}`.padEnd(12);
  const faults = s.activeFaults.length === 0 ? 'no faults' : s.activeFaults.join('; ');
  return `${elapsed}  ${ops}  ${p99} leader ${s.leader ?? '—'}  | ${faults} | agreement ${s.agreement}`;
}
