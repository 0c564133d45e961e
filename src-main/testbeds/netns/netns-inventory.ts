import { NFT_FAMILY, ownerIdOf } from './netns-names';
import { runTool, ToolError } from './run-tool';
import { terminate, identityOf } from './netns-processes';

/** Kernel objects that exist right now, as the tools list them (names only). */
export interface KernelInventory {
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
  readonly nftTables: readonly { family: string; name: string }[];
}

function parseJsonArray(text: string, what: string): unknown[] {
  if (text.trim() === '') return [];
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error(`netns testbed: ${what} did not print a JSON array`);
  return value;
}

export async function listKernelObjects(): Promise<KernelInventory> {
  const [ns, links, tables] = await Promise.all([
    runTool('ip', ['-j', 'netns', 'list'], { hint: 'check that iproute2 works: ip netns list' }),
    runTool('ip', ['-j', 'link', 'show'], { hint: 'check that iproute2 works: ip link show' }),
    runTool('nft', ['-j', 'list', 'tables'], {
      hint: 'check that nftables works: nft list tables (root is needed)',
    }),
  ]);
  const names = (rows: unknown[], key: string): string[] =>
    rows
      .map((r) => (r as Record<string, unknown>)[key])
      .filter((v): v is string => typeof v === 'string');
  const nftRows = (
    ((
      JSON.parse(tables.stdout === '' ? '{"nftables":[]}' : tables.stdout) as {
        nftables?: unknown[];
      }
    ).nftables ?? []) as Record<string, unknown>[]
  )
    .map((r) => r['table'] as { family?: unknown; name?: unknown } | undefined)
    .filter(
      (t): t is { family: string; name: string } =>
        t !== undefined && typeof t.family === 'string' && typeof t.name === 'string',
    )
    .map((t) => ({ family: t.family, name: t.name }));
  return {
    namespaces: names(parseJsonArray(ns.stdout, 'ip -j netns list'), 'name'),
    links: names(parseJsonArray(links.stdout, 'ip -j link show'), 'ifname'),
    nftTables: nftRows,
  };
}

/**
 * Stop every process inside one of our namespaces (our sshd, and whatever was started over
 * SSH in it: agents, shells). The namespace is ours, so everything in it is ours. Returns the
 * PIDs stopped.
 */
export async function stopNamespaceProcesses(namespace: string): Promise<number[]> {
  let out: string;
  try {
    out = (
      await runTool('ip', ['netns', 'pids', namespace], {
        hint: `list the processes of namespace ${namespace} by hand: ip netns pids ${namespace}`,
      })
    ).stdout;
  } catch (err) {
    if (err instanceof ToolError && /No such file|Invalid netns|Cannot open/i.test(err.stderr)) {
      return [];
    }
    throw err;
  }
  const pids = out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
  const stopped: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const who = identityOf(pid);
      if (who !== null && (await terminate(who))) stopped.push(pid);
    }),
  );
  return stopped.sort((a, b) => a - b);
}

const GONE = /Cannot find device|No such file or directory|does not exist|Invalid netns/i;

/** Delete a namespace; false when it did not exist. */
export async function deleteNamespace(namespace: string): Promise<boolean> {
  try {
    await runTool('ip', ['netns', 'delete', namespace], {
      hint: `delete it by hand after stopping its processes (ip netns pids ${namespace}): ip netns delete ${namespace}`,
    });
    return true;
  } catch (err) {
    if (err instanceof ToolError && GONE.test(err.stderr)) return false;
    throw err;
  }
}

/** Delete a link (a veth also takes its peer with it); false when it did not exist. */
export async function deleteLink(name: string): Promise<boolean> {
  try {
    await runTool('ip', ['link', 'delete', 'dev', name], {
      hint: `delete it by hand: ip link delete dev ${name}`,
    });
    return true;
  } catch (err) {
    if (err instanceof ToolError && GONE.test(err.stderr)) return false;
    throw err;
  }
}

/** Delete one of our nftables tables (only ever a table we name); false when absent. */
export async function deleteNftTable(name: string, family = NFT_FAMILY): Promise<boolean> {
  try {
    await runTool('nft', ['delete', 'table', family, name], {
      hint: `delete it by hand: nft delete table ${family} ${name}`,
    });
    return true;
  } catch (err) {
    if (err instanceof ToolError && GONE.test(err.stderr)) return false;
    throw err;
  }
}

export interface NamedObjects {
  namespaces: string[];
  links: string[];
  nftTables: { family: string; name: string }[];
}

/** Our objects in an inventory, by the testbed id in their names; others' names are skipped. */
export function groupByOwner(inventory: KernelInventory): Map<string, NamedObjects> {
  const byId = new Map<string, NamedObjects>();
  const entry = (id: string): NamedObjects => {
    let e = byId.get(id);
    if (e === undefined) {
      e = { namespaces: [], links: [], nftTables: [] };
      byId.set(id, e);
    }
    return e;
  };
  for (const ns of inventory.namespaces) {
    const id = ownerIdOf('namespace', ns);
    if (id !== null) entry(id).namespaces.push(ns);
  }
  for (const link of inventory.links) {
    const id = ownerIdOf('link', link);
    if (id !== null) entry(id).links.push(link);
  }
  for (const t of inventory.nftTables) {
    const id = ownerIdOf('nft-table', t.name);
    if (id !== null) entry(id).nftTables.push(t);
  }
  return byId;
}
