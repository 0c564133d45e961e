import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { LabSummary, RecordingSummary } from '../api/api-schema';
import { LabError, loadLab, validateResolvedLab } from '../labs/load-lab';
import { listRecordings, readManifest } from '../record/recording-reader';

/** Every labs/<id>/lab.yaml, loaded and validated; a broken lab is an error line, not a failure. */
export async function listLabs(labsDir: string): Promise<{ labs: LabSummary[]; errors: string[] }> {
  const labs: LabSummary[] = [];
  const errors: string[] = [];
  let entries: string[];
  try {
    entries = (await readdir(labsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    return {
      labs,
      errors: [
        `cannot list the labs folder ${labsDir}: ${(err as Error).message}; start the server with --labs-dir`,
      ],
    };
  }
  for (const name of entries) {
    const path = resolve(labsDir, name, 'lab.yaml');
    try {
      const lab = loadLab(path);
      labs.push({
        path,
        name: lab.name,
        title: lab.title,
        stack: lab.stack,
        nodes: lab.nodes,
        duration_ms: lab.duration_ms,
        faults: lab.faults.length,
        description: await firstParagraph(join(dirname(path), 'README.md'), lab.description),
      });
    } catch (err) {
      if (err instanceof LabError && err.issues.some((i) => i.message.startsWith('no such file'))) {
        continue; // a folder without a lab.yaml is not a lab
      }
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { labs, errors };
}

async function firstParagraph(readmePath: string, fallback: string | null): Promise<string> {
  try {
    const text = await readFile(readmePath, 'utf8');
    const paragraphs = text
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter((p) => p !== '' && !p.startsWith('#'));
    return (paragraphs[0] ?? fallback ?? '').replace(/\s+/g, ' ').slice(0, 1_000);
  } catch {
    return (fallback ?? '').replace(/\s+/g, ' ').trim();
  }
}

/** Recordings under `runsDir` with their verdicts (listRecordings), as the api describes them. */
export async function listRecordingSummaries(
  runsDir: string,
): Promise<{ recordings: RecordingSummary[]; errors: string[] }> {
  const recordings: RecordingSummary[] = [];
  const errors: string[] = [];
  let found;
  try {
    found = await listRecordings(runsDir);
  } catch (err) {
    return { recordings, errors: [(err as Error).message] };
  }
  for (const r of found) {
    if (r.verdict === 'unreadable' || r.runId === null) {
      errors.push(`${r.path}: ${r.problem ?? 'unreadable run.json'}`);
      continue;
    }
    try {
      recordings.push(await describeRecording(runsDir, r.path, r.verdict));
    } catch (err) {
      errors.push(`${r.path}: ${(err as Error).message}`);
    }
  }
  return { recordings, errors };
}

export async function describeRecording(
  runsDir: string,
  runDir: string,
  verdict: string,
): Promise<RecordingSummary> {
  const manifest = await readManifest(runDir);
  let stack = '?';
  let faults = 0;
  try {
    const lab = validateResolvedLab(manifest.lab, `${runDir}/run.json`);
    stack = lab.stack;
    faults = lab.faults.length;
  } catch {
    // An old or hand-edited lab in run.json: the list still shows the run.
  }
  return {
    recordingId: relative(runsDir, runDir),
    runId: manifest.runId,
    name: manifest.name,
    startedAt: manifest.startedAt,
    duration_ms: manifest.duration_ms ?? null,
    stack,
    nodes: manifest.testbed.nodes.filter((n) => n.role === 'replica').length,
    faults,
    verdict:
      verdict === 'pass' || verdict === 'fail' || verdict === 'unknown' ? verdict : 'unchecked',
    runDir: resolve(runDir),
  };
}
