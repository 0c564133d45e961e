import { rm } from 'node:fs/promises';
import { assertTestbedId, runtimeDirFromEnv, testbedFilesDir } from './netns-names';
import {
  deleteLink,
  groupByOwner,
  listKernelObjects,
  deleteNamespace,
  deleteNftTable,
  stopNamespaceProcesses,
} from './netns-inventory';
import { commandLineOf, isAlive, terminate } from './netns-processes';
import { listStateIds, readState, removeState, type NetnsState } from './netns-state';

/** What a teardown removed (for the user's log: "removed ..."). */
export interface TeardownReport {
  readonly id: string;
  readonly stoppedPids: number[];
  readonly namespaces: string[];
  readonly links: string[];
  readonly nftTables: string[];
  readonly files: string[];
}

/** Everything a testbed may own; a state file gives it, a name scan rebuilds part of it. */
export interface OwnedObjects {
  readonly id: string;
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
  readonly nftTables: readonly { family: string; name: string }[];
  readonly sshd: NetnsState['sshd'];
  readonly filesDir: string | null;
  readonly stateFile: { runtimeDir: string } | null;
}

export function ownedByState(runtimeDir: string, state: NetnsState): OwnedObjects {
  return {
    id: state.id,
    namespaces: state.namespaces,
    links: vethsFirst([...state.veths, state.bridge]),
    nftTables: state.nftTables,
    sshd: state.sshd,
    filesDir: state.filesDir,
    stateFile: { runtimeDir },
  };
}

export function describeReport(r: TeardownReport): string {
  const parts = [
    r.stoppedPids.length > 0 ? `processes ${r.stoppedPids.join(' ')}` : '',
    r.namespaces.length > 0 ? `namespaces ${r.namespaces.join(' ')}` : '',
    r.links.length > 0 ? `links ${r.links.join(' ')}` : '',
    r.nftTables.length > 0 ? `nft tables ${r.nftTables.join(' ')}` : '',
    r.files.length > 0 ? `files ${r.files.join(' ')}` : '',
  ].filter((p) => p !== '');
  return `testbed ${r.id}: removed ${parts.length > 0 ? parts.join('; ') : 'nothing (already gone)'}`;
}

/**
 * Remove everything of one testbed, in an order that never leaves a process holding a
 * namespace: sshds (by recorded PID, checked against their command line), then any other
 * process in our namespaces, then rules, links, namespaces, files. Each step is attempted
 * even when an earlier one failed; the failures are reported together.
 */
export async function removeOwned(owned: OwnedObjects): Promise<TeardownReport> {
  const report: TeardownReport = {
    id: owned.id,
    stoppedPids: [],
    namespaces: [],
    links: [],
    nftTables: [],
    files: [],
  };
  const failures: string[] = [];
  const attempt = async (what: string, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
    }
  };

  await Promise.all(
    owned.sshd.map((s) =>
      attempt(`stopping sshd of ${s.node} (pid ${s.process.pid})`, async () => {
        // A recorded PID is signalled only if it is still that sshd: same start time and
        // our config path on its command line.
        const cmd = commandLineOf(s.process.pid);
        if (!isAlive(s.process) || cmd === null || !cmd.includes(s.configPath)) return;
        if (await terminate(s.process)) report.stoppedPids.push(s.process.pid);
      }),
    ),
  );
  await Promise.all(
    owned.namespaces.map((ns) =>
      attempt(`stopping processes in ${ns}`, async () => {
        report.stoppedPids.push(...(await stopNamespaceProcesses(ns)));
      }),
    ),
  );
  for (const t of owned.nftTables) {
    await attempt(`deleting nft table ${t.family} ${t.name}`, async () => {
      if (await deleteNftTable(t.name, t.family)) report.nftTables.push(`${t.family} ${t.name}`);
    });
  }
  for (const link of owned.links) {
    await attempt(`deleting link ${link}`, async () => {
      if (await deleteLink(link)) report.links.push(link);
    });
  }
  await Promise.all(
    owned.namespaces.map((ns) =>
      attempt(`deleting namespace ${ns}`, async () => {
        if (await deleteNamespace(ns)) report.namespaces.push(ns);
      }),
    ),
  );
  if (owned.filesDir !== null) {
    const dir = owned.filesDir;
    await attempt(`removing ${dir}`, async () => {
      await rm(dir, { recursive: true, force: true });
      report.files.push(dir);
    });
  }
  if (owned.stateFile !== null && failures.length === 0) {
    // Kept when something failed, so the next `up` or `down` tries again.
    const { runtimeDir } = owned.stateFile;
    await attempt('removing the state file', () => removeState(runtimeDir, owned.id));
  }
  report.stoppedPids.sort((a, b) => a - b);
  report.namespaces.sort();
  if (failures.length > 0) {
    throw new Error(
      `netns testbed ${owned.id}: teardown incomplete (its state file is kept so \`faultlab ` +
        `testbed down\` can retry):\n  ${failures.join('\n  ')}`,
    );
  }
  return report;
}

export interface DownOptions {
  readonly runtimeDir?: string;
}

/**
 * Veths before the bridge: deleting a namespace destroys its end asynchronously and the root
 * end would linger for a moment; deleting the root end takes the peer with it at once.
 */
function vethsFirst(links: readonly string[]): string[] {
  return [
    ...links.filter((l) => l.startsWith('flv-')),
    ...links.filter((l) => !l.startsWith('flv-')),
  ];
}

function union<T>(a: readonly T[], b: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((t) => !seen.has(key(t)))];
}

/**
 * What to remove for one id: the state file's list joined with what a name scan finds now,
 * so objects of a run that crashed before updating its state file (or whose state file was
 * deleted by hand) still go.
 */
export async function ownedObjects(runtimeDir: string, id: string): Promise<OwnedObjects> {
  const state = await readState(runtimeDir, id);
  const scanned = groupByOwner(await listKernelObjects()).get(id) ?? {
    namespaces: [],
    links: [],
    nftTables: [],
  };
  const base: OwnedObjects =
    state !== null
      ? ownedByState(runtimeDir, state)
      : {
          id,
          namespaces: [],
          links: [],
          nftTables: [],
          sshd: [],
          filesDir: testbedFilesDir(runtimeDir, id),
          stateFile: null,
        };
  const same = (s: string): string => s;
  return {
    ...base,
    namespaces: union(base.namespaces, scanned.namespaces, same),
    links: vethsFirst(union(base.links, scanned.links, same)),
    nftTables: union(base.nftTables, scanned.nftTables, (t) => `${t.family} ${t.name}`),
  };
}

/** `faultlab testbed down` for one testbed id. */
export async function down(id: string, options: DownOptions = {}): Promise<TeardownReport> {
  assertTestbedId(id);
  const runtimeDir = options.runtimeDir ?? runtimeDirFromEnv();
  return removeOwned(await ownedObjects(runtimeDir, id));
}

/** `faultlab testbed down` with no id: every testbed that has a state file. */
export async function downAll(options: DownOptions = {}): Promise<TeardownReport[]> {
  const runtimeDir = options.runtimeDir ?? runtimeDirFromEnv();
  const reports: TeardownReport[] = [];
  for (const id of await listStateIds(runtimeDir)) reports.push(await down(id, { runtimeDir }));
  return reports;
}
