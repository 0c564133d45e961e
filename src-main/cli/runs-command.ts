import { formatDuration } from '../labs/duration';
import { listRecordings } from '../record/recording-reader';
import { formatTable } from './table';

export interface RunsCommandArgs {
  /** Root of the recordings: runs/<name>/<timestamp>/. */
  readonly dir: string;
  readonly print: (line: string) => void;
}

/** `faultlab runs [--dir runs]`: every recording, newest first, with its verdict. */
export async function runsCommand(args: RunsCommandArgs): Promise<number> {
  const { print } = args;
  let recordings;
  try {
    recordings = await listRecordings(args.dir);
  } catch (err) {
    print(`faultlab runs: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (recordings.length === 0) {
    print(
      `no recordings in ${args.dir} (runs/<name>/<timestamp>/run.json); start one with: npm run faultlab -- run labs/<lab-id>/lab.yaml`,
    );
    return 0;
  }
  const rows = recordings.map((r) => [
    r.name,
    r.startedAt === null ? '?' : startedText(r.startedAt),
    r.duration_ms === null ? '-' : formatDuration(r.duration_ms),
    r.verdict,
    r.path,
  ]);
  for (const line of formatTable(['name', 'started', 'duration', 'verdict', 'path'], rows)) {
    print(line);
  }
  const problems = recordings.filter((r) => r.problem !== null);
  for (const r of problems) print(`${r.path}: ${r.problem ?? ''}`);
  return 0;
}

/** "2025-11-22 01:11:05" in local time: sortable, and what the operator's clock said. */
function startedText(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${String(t.getFullYear())}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
    `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`
  );
}
