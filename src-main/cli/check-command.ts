import { checkRecording } from '../check/check-recording';
import { formatDuration } from '../labs/duration';
import { LabError, validateResolvedLab } from '../labs/load-lab';
import { readRecording, type Recording } from '../record/recording-reader';
import { writeChecksFile } from '../record/recording-writer';
import { RUN_FILES, type CheckResult } from '../record/schema';
import { formatTable } from './table';

export interface CheckCommandArgs {
  /** A run directory: runs/<name>/<timestamp>/. */
  readonly runDir: string;
  /** Skip damaged lines in the middle of the recording instead of giving up. */
  readonly lenient?: boolean;
  /** Time budget of the linearizability search. */
  readonly linearizabilityBudget_ms?: number;
  readonly print: (line: string) => void;
}

export const CHECK_EXIT = { pass: 0, fail: 1, couldNotCheck: 2 } as const;

const DETAIL_IN_TABLE = 90;

/**
 * `faultlab check <run-dir>`: check a recording offline against the lab stored in its
 * run.json, print the verdicts and write checks.json. Exit 0 pass, 1 fail, 2 could not check
 * (unreadable recording or lab, or a check that could not decide).
 */
export async function checkCommand(args: CheckCommandArgs): Promise<number> {
  const { print } = args;
  let rec: Recording;
  try {
    rec = await readRecording(args.runDir, { lenient: args.lenient === true });
  } catch (err) {
    print(`faultlab check: cannot read the recording in ${args.runDir}:`);
    print(`  ${err instanceof Error ? err.message : String(err)}`);
    return CHECK_EXIT.couldNotCheck;
  }
  for (const warning of rec.warnings) print(`warning: ${warning}`);

  const source = `${args.runDir}/${RUN_FILES.manifest}`;
  let lab;
  try {
    lab = validateResolvedLab(rec.manifest.lab, source);
  } catch (err) {
    print(`faultlab check: the lab stored in ${source} is not usable:`);
    const message = err instanceof LabError ? err.message : String(err);
    for (const line of message.split('\n')) print(`  ${line}`);
    return CHECK_EXIT.couldNotCheck;
  }

  const ended = rec.manifest.endedAt !== undefined;
  print(
    `checking ${rec.manifest.name} (run ${rec.manifest.runId}, started ${rec.manifest.startedAt}` +
      `${ended ? '' : ', did not end cleanly'}): ${String(rec.records.length)} events, ` +
      `${String(rec.history.length)} history entries`,
  );
  const report = checkRecording(rec, lab, {
    linearizabilityBudget_ms: args.linearizabilityBudget_ms,
  });

  const rows = report.checks.map((c) => [
    c.name,
    c.verdict.toUpperCase(),
    measuredText(c),
    truncate(c.detail.split('\n')[0] ?? '', DETAIL_IN_TABLE),
  ]);
  for (const line of formatTable(['check', 'verdict', 'measured / threshold', 'detail'], rows)) {
    print(line);
  }
  for (const c of report.checks) {
    if (c.verdict === 'pass') continue;
    print('');
    print(`${c.name} (${c.verdict}):`);
    for (const line of c.detail.split('\n')) print(`  ${line}`);
  }
  print('');
  print(`verdict: ${report.verdict.toUpperCase()}`);

  try {
    await writeChecksFile(args.runDir, report);
    print(`wrote ${args.runDir}/${RUN_FILES.checks}`);
  } catch (err) {
    print(
      `warning: could not write ${RUN_FILES.checks}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return report.verdict === 'pass'
    ? CHECK_EXIT.pass
    : report.verdict === 'fail'
      ? CHECK_EXIT.fail
      : CHECK_EXIT.couldNotCheck;
}

function measuredText(c: CheckResult): string {
  const show = (value: number | null | undefined): string => {
    if (value === null || value === undefined) return '-';
    if (c.name === 'progress-after-fault') return formatDuration(value);
    if (c.name === 'min-throughput') return `${value.toFixed(1)} ops/s`;
    return String(value);
  };
  if ((c.measured ?? null) === null && (c.threshold ?? null) === null) return '-';
  // A bound of 0 is "no violation allowed": a count reads better than "0 / 0".
  if (c.threshold === 0 && typeof c.measured === 'number') {
    return c.measured === 1 ? '1 violation' : `${c.measured} violations`;
  }
  return `${show(c.measured)} / ${show(c.threshold)}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
