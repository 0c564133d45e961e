import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { describeIssues } from '../validation/issue-text';
import { describeFileError } from './file-errors';
import {
  checkReportSchema,
  historyEntrySchema,
  RECORDING_SCHEMA_VERSION,
  runManifestSchema,
  runRecordSchema,
  RUN_FILES,
  type CheckReport,
  type RecordedHistoryEntry,
  type RunManifest,
  type RunRecord,
} from './schema';

export interface ReadRecordingOptions {
  /** Skip (and report in `warnings`) invalid lines in the middle of a file instead of failing. */
  readonly lenient?: boolean;
}

export interface Recording {
  readonly runDir: string;
  readonly manifest: RunManifest;
  readonly records: RunRecord[];
  readonly history: RecordedHistoryEntry[];
  /** checks.json, or null when the run was never checked (or the file is unreadable: see warnings). */
  readonly checks: CheckReport | null;
  /** Torn last lines, skipped lines (lenient), missing files: what a reader should be told. */
  readonly warnings: string[];
}

/** A recording that cannot be read; the message names the file (and line) and what to do. */
export class RecordingReadError extends Error {
  override readonly name = 'RecordingReadError';
}

/**
 * Read a run directory (schema.ts). Every line is validated. A torn last line (no trailing
 * newline, or not JSON at the end of the file: the writer was killed mid-write) is skipped
 * with a warning; an invalid line anywhere else is an error naming file:line, or with
 * `lenient` a warning.
 */
export async function readRecording(
  runDir: string,
  options: ReadRecordingOptions = {},
): Promise<Recording> {
  const warnings: string[] = [];
  const manifest = await readManifest(runDir);
  const records = await readNdjson(
    join(runDir, RUN_FILES.events),
    runRecordSchema,
    'run record',
    options,
    warnings,
  );
  const history = await readNdjson(
    join(runDir, RUN_FILES.history),
    historyEntrySchema,
    'history entry',
    options,
    warnings,
  );
  const checks = await readChecks(runDir, warnings);
  return { runDir, manifest, records, history, checks, warnings };
}

/** run.json, validated; errors name the file and the field. */
export async function readManifest(runDir: string): Promise<RunManifest> {
  const path = join(runDir, RUN_FILES.manifest);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RecordingReadError(
        `${path}: not found; is ${runDir} a run directory (runs/<name>/<timestamp>/ with run.json)?`,
      );
    }
    throw new RecordingReadError(describeFileError(err, 'reading', path));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RecordingReadError(
      `${path}: not valid JSON (${(err as Error).message}); the file is damaged`,
    );
  }
  const version = (raw as { schema?: unknown } | null)?.schema;
  if (typeof version === 'number' && version !== RECORDING_SCHEMA_VERSION) {
    throw new RecordingReadError(
      `${path}: recorded with schema version ${String(version)}; this FaultLab reads version ${String(RECORDING_SCHEMA_VERSION)}: use a matching FaultLab`,
    );
  }
  const result = runManifestSchema.safeParse(raw);
  if (!result.success) {
    throw new RecordingReadError(`${path}: ${describeIssues(result.error.issues, raw).join('; ')}`);
  }
  return result.data;
}

async function readChecks(runDir: string, warnings: string[]): Promise<CheckReport | null> {
  const path = join(runDir, RUN_FILES.checks);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    warnings.push(`${describeFileError(err, 'reading', path)}; ignoring the stored checks`);
    return null;
  }
  try {
    const raw: unknown = JSON.parse(text);
    const result = checkReportSchema.safeParse(raw);
    if (result.success) return result.data;
    warnings.push(
      `${path}: ${describeIssues(result.error.issues, raw).join('; ')}; ignoring the stored checks (run \`faultlab check\` again)`,
    );
  } catch (err) {
    warnings.push(
      `${path}: not valid JSON (${(err as Error).message}); ignoring the stored checks (run \`faultlab check\` again)`,
    );
  }
  return null;
}

/** A line that failed, held until we know whether it was the last one (then it may be torn). */
interface FailedLine {
  readonly lineNo: number;
  readonly notJson: boolean;
  readonly reason: string;
}

async function readNdjson<T extends z.ZodType>(
  path: string,
  schema: T,
  what: string,
  options: ReadRecordingOptions,
  warnings: string[],
): Promise<z.output<T>[]> {
  const out: z.output<T>[] = [];
  let failed: FailedLine | null = null;
  let lineNo = 0;
  let carry = '';

  const fail = (line: FailedLine): void => {
    if (options.lenient === true) {
      warnings.push(`${path}:${String(line.lineNo)}: skipped (lenient): ${line.reason}`);
      return;
    }
    throw new RecordingReadError(
      `${path}:${String(line.lineNo)}: ${line.reason}; the file is damaged before its last line ` +
        `(a crash tears only the last one). Use --lenient to skip bad lines`,
    );
  };

  const parse = (text: string): { value?: z.output<T>; failure?: Omit<FailedLine, 'lineNo'> } => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { failure: { notJson: true, reason: `not valid JSON (${(err as Error).message})` } };
    }
    const result = schema.safeParse(raw);
    if (result.success) return { value: result.data };
    return {
      failure: {
        notJson: false,
        reason: `not a valid ${what}: ${describeIssues(result.error.issues, raw).join('; ')}`,
      },
    };
  };

  const onLine = (text: string): void => {
    lineNo++;
    if (text.trim() === '') return;
    // A failed line followed by another line was not the last one: it is real damage.
    if (failed !== null) {
      fail(failed);
      failed = null;
    }
    const parsed = parse(text);
    if (parsed.failure !== undefined) failed = { lineNo, ...parsed.failure };
    else out.push(parsed.value as z.output<T>);
  };

  try {
    const stream = createReadStream(path, { encoding: 'utf8' });
    for await (const chunk of stream as AsyncIterable<string>) {
      const parts = (carry + chunk).split('\n');
      carry = parts.pop() ?? '';
      for (const part of parts) onLine(part);
    }
  } catch (err) {
    if (err instanceof RecordingReadError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      warnings.push(`${path}: missing; the run stopped before it was created (read as empty)`);
      return out;
    }
    throw new RecordingReadError(describeFileError(err, 'reading', path));
  }

  const pendingFailure = failed as FailedLine | null;
  if (carry.trim() !== '') {
    // The last line has no trailing newline: the writer was stopped in the middle of it.
    if (pendingFailure !== null) fail(pendingFailure);
    lineNo++;
    const parsed = parse(carry);
    if (parsed.failure === undefined) {
      out.push(parsed.value as z.output<T>);
      warnings.push(
        `${path}:${String(lineNo)}: last line has no trailing newline but is complete; kept`,
      );
    } else if (parsed.failure.notJson) {
      warnings.push(
        `${path}:${String(lineNo)}: torn last line skipped (${String(Buffer.byteLength(carry))} bytes, no trailing newline): the writer stopped mid-line`,
      );
    } else {
      fail({ lineNo, ...parsed.failure });
    }
  } else if (pendingFailure !== null) {
    if (pendingFailure.notJson) {
      warnings.push(
        `${path}:${String(pendingFailure.lineNo)}: torn last line skipped: ${pendingFailure.reason}`,
      );
    } else {
      fail(pendingFailure);
    }
  }
  return out;
}

// ------------------------------------------------------------------ listing

export type RecordingVerdict =
  'pass' | 'fail' | 'unknown' | 'unchecked' | 'incomplete' | 'unreadable';

export interface RecordingSummary {
  readonly path: string;
  readonly name: string;
  readonly runId: string | null;
  /** ISO time from run.json, or null when it is unreadable. */
  readonly startedAt: string | null;
  readonly duration_ms: number | null;
  /**
   * checks.json's verdict; else 'incomplete' when run.json has no end (the run crashed or is
   * still going), 'unchecked' when it ended; 'unreadable' when run.json is damaged.
   */
  readonly verdict: RecordingVerdict;
  readonly problem: string | null;
}

/** Every recording under `rootDir` (runs/<name>/<timestamp>/run.json), newest first. */
export async function listRecordings(rootDir: string): Promise<RecordingSummary[]> {
  const out: RecordingSummary[] = [];
  for (const name of await subdirectories(rootDir)) {
    for (const stamp of await subdirectories(join(rootDir, name))) {
      const runDir = join(rootDir, name, stamp);
      const hasManifest = await stat(join(runDir, RUN_FILES.manifest)).then(
        (s) => s.isFile(),
        () => false,
      );
      if (hasManifest) out.push(await summarize(runDir, name));
    }
  }
  const time = (s: RecordingSummary): number => {
    const t = s.startedAt === null ? Number.NaN : Date.parse(s.startedAt);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  return out.sort((a, b) => time(b) - time(a) || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
}

async function summarize(runDir: string, dirName: string): Promise<RecordingSummary> {
  let manifest: RunManifest;
  try {
    manifest = await readManifest(runDir);
  } catch (err) {
    return {
      path: runDir,
      name: dirName,
      runId: null,
      startedAt: null,
      duration_ms: null,
      verdict: 'unreadable',
      problem: err instanceof Error ? err.message : String(err),
    };
  }
  const warnings: string[] = [];
  const checks = await readChecks(runDir, warnings);
  const ended = manifest.endedAt !== undefined;
  return {
    path: runDir,
    name: manifest.name,
    runId: manifest.runId,
    startedAt: manifest.startedAt,
    duration_ms: manifest.duration_ms ?? null,
    verdict: checks !== null ? checks.verdict : ended ? 'unchecked' : 'incomplete',
    problem: warnings[0] ?? null,
  };
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RecordingReadError(describeFileError(err, 'listing', dir));
  }
}
