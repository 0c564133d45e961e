import { formatTable } from '../cli/table';
import { formatMbps, type PreflightCheck, type PreflightResult } from './preflight-result';

const MARK: Record<PreflightCheck['status'], string> = {
  pass: 'ok',
  warn: 'WARN',
  fail: 'FAIL',
  skipped: '-',
};

function cell(c: PreflightCheck | undefined): string {
  if (c === undefined) return '-';
  if (c.status === 'pass') {
    if (c.check === 'clock' && c.value_ms !== null) {
      return `${c.value_ms >= 0 ? '+' : ''}${c.value_ms.toFixed(1)} ± ${(c.uncertainty_ms ?? 0).toFixed(1)} ms`;
    }
    if (c.check === 'node') return c.detail.split(' ')[0] ?? 'ok';
    if (c.check === 'kernel-faults') return c.detail.split(';')[0] ?? 'ok';
    return 'ok';
  }
  return MARK[c.status];
}

/**
 * The preflight as the CLI prints it: a row per host, a row per pair's RTT, then every
 * check that did not pass with its full reason, and the verdict.
 */
export function formatPreflight(result: PreflightResult): string[] {
  const find = (host: string | null, check: PreflightCheck['check']): PreflightCheck | undefined =>
    result.checks.find((c) => c.host === host && c.check === check && c.peer === null);
  const lines: string[] = [];
  lines.push(
    ...formatTable(
      ['host', 'address', 'reachable', 'node', 'ports', 'clock offset', 'kernel faults'],
      result.hosts.map((h) => [
        h.name,
        h.address,
        cell(find(h.name, 'reachable')),
        cell(find(h.name, 'node')),
        cell(find(h.name, 'ports')),
        cell(find(h.name, 'clock')),
        cell(find(h.name, 'kernel-faults') ?? find(null, 'kernel-faults')),
      ]),
    ),
  );
  const rtts = result.checks.filter((c) => c.check === 'rtt');
  const bandwidthOf = (c: PreflightCheck): string => {
    const b = result.checks.find(
      (x) => x.check === 'bandwidth' && x.host === c.host && x.peer === c.peer,
    );
    if (b === undefined) return '-';
    return b.value_mbps === null ? MARK[b.status] : formatMbps(b.value_mbps);
  };
  if (rtts.length > 0) {
    lines.push('');
    lines.push(
      ...formatTable(
        ['from', 'to', 'rtt (median)', 'bandwidth', 'detail'],
        rtts.map((c) => [
          c.host ?? '',
          c.peer ?? '',
          c.value_ms === null ? MARK[c.status] : `${c.value_ms.toFixed(2)} ms`,
          bandwidthOf(c),
          c.status === 'pass' ? c.detail.replace(/^median [\d.]+ ms /, '') : c.detail,
        ]),
      ),
    );
  }
  const kernel = find(null, 'kernel-faults');
  if (kernel !== undefined) lines.push('', `kernel faults (this machine): ${kernel.detail}`);
  const notPassed = result.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
  if (notPassed.length > 0) lines.push('');
  for (const c of notPassed) {
    const where = `${c.host ?? 'this machine'}${c.peer === null ? '' : ` → ${c.peer}`}`;
    lines.push(
      `${MARK[c.status]} ${where}: ${c.check}${c.required ? ' (required)' : ''}: ${c.detail}`,
    );
  }
  lines.push('');
  lines.push(
    result.ok
      ? `preflight passed in ${(result.duration_ms / 1000).toFixed(1)} s (${result.hosts.length} hosts)`
      : `preflight FAILED: ${result.checks.filter((c) => c.required && c.status === 'fail').length} required check(s) failed; the run is refused`,
  );
  return lines;
}
