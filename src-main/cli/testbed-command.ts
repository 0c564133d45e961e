import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { describeReport, down, downAll } from '../testbeds/netns/netns-testbed-down';
import { netnsTargets, pinnedKnownHosts } from '../testbeds/netns/netns-testbed';
import { requireRoot, up, type NetnsTestbed } from '../testbeds/netns/netns-testbed-up';
import { runtimeDirFromEnv } from '../testbeds/netns/netns-names';
import { isLive, listStateIds, readState } from '../testbeds/netns/netns-state';
import { formatTable } from './table';

/**
 * `faultlab testbed up|down|list`: namespace testbeds that outlive the command, to be used by
 * any number of `faultlab run --testbed ssh` runs (or by hand over ssh) until `down`.
 */

export interface TestbedCommandIo {
  readonly print: (line: string) => void;
  /** Default: $FAULTLAB_RUNTIME_DIR or /run/faultlab. */
  readonly runtimeDir?: string;
}

export interface TestbedUpArgs extends TestbedCommandIo {
  readonly kind: string;
  readonly nodes: number;
  readonly id?: string;
  readonly subnet?: string;
}

/** What `up` wrote for `faultlab run --testbed ssh`. */
export interface TestbedFiles {
  readonly folder: string;
  readonly inventory: string;
  readonly knownHosts: string;
}

/** The inventory YAML of a netns testbed: every namespace as an SSH host. */
export function inventoryYaml(info: NetnsTestbed): string {
  const hosts = netnsTargets(info).map((t) => ({
    name: t.name,
    host: t.host,
    port: t.port,
    user: t.user,
    identityFile: t.identityFiles[0],
    workDir: t.workDir,
  }));
  return (
    `# FaultLab inventory of netns testbed ${info.id} (${info.subnet}), written by ` +
    `\`faultlab testbed up\`;\n# removed by \`faultlab testbed down --id ${info.id}\`.\n` +
    stringify({ hosts })
  );
}

/** Write the inventory and the pinned host keys next to the testbed's keys. */
export async function writeTestbedFiles(info: NetnsTestbed): Promise<TestbedFiles> {
  const knownHosts = (await pinnedKnownHosts(info)).files.userFile;
  const folder = join(knownHosts, '..');
  const inventory = join(folder, 'inventory.yaml');
  await writeFile(inventory, inventoryYaml(info), { mode: 0o600 });
  return { folder, inventory, knownHosts };
}

export async function testbedUp(args: TestbedUpArgs): Promise<number> {
  const { print } = args;
  if (args.kind !== 'netns') {
    print(
      `faultlab testbed up: unknown --kind "${args.kind}"; the only kind brought up on this machine is netns ` +
        '(SSH hosts are listed in an inventory file, the local testbed needs nothing)',
    );
    return 2;
  }
  let info: NetnsTestbed;
  try {
    requireRoot();
    info = await up({
      nodes: args.nodes,
      keepAfterOwnerExit: true,
      log: (line) => print(`  ${line}`),
      ...(args.id === undefined ? {} : { id: args.id }),
      ...(args.subnet === undefined ? {} : { subnet: args.subnet }),
      ...(args.runtimeDir === undefined ? {} : { runtimeDir: args.runtimeDir }),
    });
  } catch (err) {
    print(`faultlab testbed up: ${(err as Error).message}`);
    return 2;
  }
  let files: TestbedFiles;
  try {
    files = await writeTestbedFiles(info);
  } catch (err) {
    print(
      `faultlab testbed up: the testbed ${info.id} is up but its inventory could not be written ` +
        `(${(err as Error).message}); taking it down again`,
    );
    print(describeReport(await down(info.id, { runtimeDir: info.runtimeDir })));
    return 2;
  }
  print(`netns testbed ${info.id}: ${info.hosts.length} hosts on ${info.subnet}`);
  print('');
  for (const line of formatTable(
    ['host', 'ip', 'namespace', 'ssh', 'sshd pid'],
    info.hosts.map((h) => [
      h.name,
      h.ip,
      h.namespace,
      `${h.user}@${h.ip}:${h.port}`,
      `${h.sshdPid}`,
    ]),
  )) {
    print(line);
  }
  print('');
  print(`files in ${files.folder}:`);
  print(`  inventory    ${files.inventory}`);
  print(`  known hosts  ${files.knownHosts}`);
  print(
    `  netem        ${info.netem.available ? 'available' : `not available (${info.netem.reason})`}`,
  );
  print('');
  print(
    `run a lab on it (a lab of ${Math.max(info.hosts.length - 1, 1)} replicas gives every node, ` +
      'the workload node included, a host of its own):',
  );
  print(
    `  npx faultlab run <lab.yaml> --testbed ssh --inventory ${files.inventory} --known-hosts ${files.knownHosts}`,
  );
  print(`take it down: npx faultlab testbed down --id ${info.id}`);
  return 0;
}

export async function testbedDown(
  args: TestbedCommandIo & { readonly id?: string; readonly all?: boolean },
): Promise<number> {
  const { print } = args;
  const runtimeDir = args.runtimeDir ?? runtimeDirFromEnv();
  if ((args.id === undefined) === (args.all !== true)) {
    print('faultlab testbed down: give --id <id> (see faultlab testbed list) or --all, not both');
    return 2;
  }
  try {
    requireRoot();
    const reports =
      args.id !== undefined ? [await down(args.id, { runtimeDir })] : await downAll({ runtimeDir });
    if (reports.length === 0) print(`no netns testbed in ${runtimeDir}`);
    for (const r of reports) print(describeReport(r));
    return 0;
  } catch (err) {
    print(`faultlab testbed down: ${(err as Error).message}`);
    return 2;
  }
}

export async function testbedList(args: TestbedCommandIo): Promise<number> {
  const { print } = args;
  const runtimeDir = args.runtimeDir ?? runtimeDirFromEnv();
  try {
    const rows: string[][] = [];
    for (const id of await listStateIds(runtimeDir)) {
      const s = await readState(runtimeDir, id);
      if (s === null) continue;
      rows.push([
        s.id,
        `${s.namespaces.length}`,
        s.subnet,
        isLive(s) ? (s.keepAfterOwnerExit ? 'up (kept)' : 'up (in a run)') : 'leftover',
        s.createdAt,
        join(s.filesDir, 'inventory.yaml'),
      ]);
    }
    if (rows.length === 0) {
      print(`no netns testbed (state files in ${runtimeDir})`);
      return 0;
    }
    const headers = ['id', 'nodes', 'subnet', 'state', 'created', 'inventory'];
    for (const line of formatTable(headers, rows)) print(line);
    return 0;
  } catch (err) {
    print(`faultlab testbed list: ${(err as Error).message}`);
    return 2;
  }
}

/** Registers `faultlab testbed up|down|list`. */
export function registerTestbedCommand(
  program: Command,
  positiveInt: (value: string) => number,
): void {
  const print = (line: string): void => console.log(line);
  const testbed = program
    .command('testbed')
    .description('bring namespace testbeds up and down (root), list them');
  testbed
    .command('up')
    .description(
      'N network namespaces with their own IP and sshd on a bridge; writes an inventory for --testbed ssh',
    )
    .requiredOption('--kind <kind>', 'the kind of testbed: netns')
    .requiredOption('--nodes <n>', 'hosts (namespaces) to create', positiveInt)
    .option('--id <id>', '1–6 letters or digits naming it (default: random)')
    .option('--subnet <a.b.c.0/24>', 'its IPv4 /24 (default: the first free 10.77.k.0/24)')
    .action(async (opts: Record<string, unknown>) => {
      process.exitCode = await testbedUp({
        kind: String(opts['kind']),
        nodes: opts['nodes'] as number,
        id: opts['id'] as string | undefined,
        subnet: opts['subnet'] as string | undefined,
        print,
      });
    });
  testbed
    .command('down')
    .description('remove a testbed: sshds, agents, namespaces, bridge, rules, files')
    .argument('[id]', 'the testbed id (same as --id)')
    .option('--id <id>', 'the testbed id (see faultlab testbed list)')
    .option('--all', 'every netns testbed of this machine', false)
    .action(async (idArg: string | undefined, opts: Record<string, unknown>) => {
      process.exitCode = await testbedDown({
        id: (opts['id'] as string | undefined) ?? idArg,
        all: opts['all'] === true,
        print,
      });
    });
  testbed
    .command('list')
    .description('netns testbeds of this machine, with their state')
    .action(async () => {
      process.exitCode = await testbedList({ print });
    });
}
