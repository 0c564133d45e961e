import { checkRecording } from '../../check/check-recording';
import { validateResolvedLab } from '../../labs/load-lab';
import { readRecording } from '../../record/recording-reader';
import { writeChecksFile } from '../../record/recording-writer';
import type { CheckReport } from '../../record/schema';

/** Check a finished run's recording against the lab in its run.json and write checks.json. */
export async function checkRunDir(runDir: string): Promise<CheckReport> {
  const rec = await readRecording(runDir, { lenient: true });
  const lab = validateResolvedLab(rec.manifest.lab, `${runDir}/run.json`);
  const report = checkRecording(rec, lab);
  await writeChecksFile(runDir, report);
  return report;
}
