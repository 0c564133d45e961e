/**
 * Shared pieces of the testbed integration tests: N private sshds as N "hosts", their targets
 * and a known-hosts file that trusts exactly them, labs shortened for a test's time budget, and
 * the checkers' verdicts of a recording.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRecording } from '../../../src-main/check/check-recording';
import type { LabConfig } from '../../../src-main/labs/lab-schema';
import { loadLab, validateResolvedLab } from '../../../src-main/labs/load-lab';
import type { Recording } from '../../../src-main/record/recording-reader';
import { KnownHosts } from '../../../src-main/ssh/known-hosts';
import type { SshTarget } from '../../../src-main/ssh/ssh-target';
import { startSshd, type TestSshd } from '../../support/sshd';

export async function startHosts(count: number): Promise<TestSshd[]> {
  const started: TestSshd[] = [];
  try {
    for (let i = 0; i < count; i++) started.push(await startSshd());
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return started;
}

export function targetsFor(sshds: readonly TestSshd[], workDir: string): SshTarget[] {
  return sshds.map((s, i) => ({
    name: `h${i + 1}`,
    host: '127.0.0.1',
    port: s.port,
    user: 'root',
    identityFiles: [s.clientKeyPath],
    jump: null,
    workDir,
  }));
}

/** Known-hosts files in `dir`: the user file trusts `trusted`, FaultLab's own file is empty. */
export function knownHostsFor(dir: string, name: string, trusted: readonly TestSshd[]): KnownHosts {
  const knownHosts = new KnownHosts({
    userFile: join(dir, `${name}_user_known_hosts`),
    faultlabFile: join(dir, `${name}_faultlab`, 'known_hosts'),
  });
  const lines = trusted.map((s) => {
    const [type, key] = s.hostPublicKey.split(' ');
    return `[127.0.0.1]:${String(s.port)} ${String(type)} ${String(key)}`;
  });
  writeFileSync(knownHosts.files.userFile, `${lines.join('\n')}\n`);
  return knownHosts;
}

/**
 * A lab with its fault script compressed to fit `duration_ms`: the first `faults` faults of the
 * file, their times scaled so the last lands at 70 % of the run (the rest is recovery).
 */
export function shortenedLab(
  path: string,
  options: { duration_ms: number; faults: number; nodes?: number },
): LabConfig {
  const lab = loadLab(path);
  const kept = lab.faults.slice(0, options.faults);
  const last = Math.max(...kept.map((f) => f.at_ms), 1);
  const scale = (options.duration_ms * 0.7) / last;
  return validateResolvedLab(
    {
      ...lab,
      duration_ms: options.duration_ms,
      ...(options.nodes === undefined ? {} : { nodes: options.nodes }),
      faults: kept.map((f) => ({ ...f, at_ms: Math.round(f.at_ms * scale) })),
    },
    `${path} (shortened for a test)`,
  );
}

export function verdicts(rec: Recording): Record<string, string> {
  const lab = validateResolvedLab(rec.manifest.lab, 'run.json');
  return Object.fromEntries(
    checkRecording(rec, lab).checks.map((c) => [
      c.name,
      `${c.verdict}: ${c.detail.split('\n')[0]}`,
    ]),
  );
}
