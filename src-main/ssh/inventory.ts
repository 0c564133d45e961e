import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPath, issueMessage, valueAtPath, type IssuePath } from '../validation/issue-text';
import { lineOf } from '../validation/yaml-lines';

/**
 * The SSH inventory: which machines a testbed runs on. YAML, e.g.
 *
 *   hosts:
 *     - name: n1
 *       host: 10.0.0.11
 *       user: lab
 *       port: 22
 *       identityFile: ~/.ssh/id_ed25519
 *       jump: bastion            # another host of this file, or a name from ~/.ssh/config
 *       workDir: /var/tmp/faultlab
 *     - bastion                  # a bare name: everything comes from ~/.ssh/config
 *
 * Fields left out are taken from the OpenSSH client config when the name is resolved
 * (ssh-target.ts). Mistakes are reported with file, line and field, like lab files.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const hostSchema = z.strictObject({
  // refine, not regex: its message is a full sentence and passes through issueMessage as is.
  name: z.string().refine((name) => NAME.test(name), {
    message: 'expected a name of letters, digits, ".", "_" or "-" (e.g. n1, lab-03)',
  }),
  host: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  identityFile: z.string().min(1).optional(),
  jump: z.string().min(1).optional(),
  workDir: z
    .string()
    .refine((dir) => dir.startsWith('/') || dir.startsWith('~/'), {
      message: 'expected an absolute remote path (/… or ~/…)',
    })
    .optional(),
});

const inventorySchema = z.strictObject({
  hosts: z
    .array(z.preprocess((item) => (typeof item === 'string' ? { name: item } : item), hostSchema))
    .min(1),
});

export type InventoryHost = z.infer<typeof hostSchema>;

export interface Inventory {
  readonly file: string;
  readonly hosts: readonly InventoryHost[];
}

export interface InventoryIssue {
  readonly file: string;
  readonly line: number | null;
  readonly path: string;
  readonly message: string;
}

export class InventoryError extends Error {
  override readonly name = 'InventoryError';
  constructor(readonly issues: readonly InventoryIssue[]) {
    super(
      issues
        .map(
          (i) =>
            `${i.line === null ? i.file : `${i.file}:${String(i.line)}`}: ${i.path}: ${i.message}`,
        )
        .join('\n'),
    );
  }
}

export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file; give the path of an inventory YAML (hosts: [...])'
        : `cannot read it (${(err as Error).message})`;
    throw new InventoryError([{ file: path, line: null, path: '(file)', message: reason }]);
  }
  return parseInventory(text, path);
}

export function parseInventory(text: string, file: string): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InventoryError(
      doc.errors.map((err) => ({
        file,
        line: err.linePos?.[0].line ?? null,
        path: '(YAML syntax)',
        message: (err.message.split('\n')[0] ?? err.message).replace(
          / at line \d+, column \d+:?$/,
          '',
        ),
      })),
    );
  }
  const raw: unknown = doc.toJS();
  const lineAt = (path: IssuePath): number | null => lineOf(doc, lineCounter, path);
  const result = inventorySchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue): InventoryIssue[] =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            file,
            line: lineAt([...issue.path, key]),
            path: formatPath([...issue.path, key]),
            message: `unknown field; a host has name, host, user, port, identityFile, jump, workDir`,
          }))
        : [
            {
              file,
              line: lineAt(issue.path),
              path: formatPath(issue.path),
              message:
                issue.path.length === 0
                  ? 'expected a map with a "hosts:" list'
                  : issueMessage(issue, valueAtPath(raw, issue.path)),
            },
          ],
    );
    throw new InventoryError(issues);
  }
  const hosts = result.data.hosts;
  const issues = crossCheck(hosts)
    .map(({ path, message }) => ({
      file,
      line: lineAt(path),
      path: formatPath(path),
      message,
    }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (issues.length > 0) throw new InventoryError(issues);
  return { file, hosts };
}

/** Names unique; a jump to another inventory host must not loop back. */
function crossCheck(hosts: readonly InventoryHost[]): { path: IssuePath; message: string }[] {
  const problems: { path: IssuePath; message: string }[] = [];
  const byName = new Map<string, number>();
  hosts.forEach((host, i) => {
    const earlier = byName.get(host.name);
    if (earlier !== undefined) {
      problems.push({
        path: ['hosts', i, 'name'],
        message: `duplicate host name "${host.name}" (first at hosts[${String(earlier)}]); names must be unique`,
      });
    } else {
      byName.set(host.name, i);
    }
  });
  hosts.forEach((host, i) => {
    const seen = [host.name];
    let next = host.jump;
    while (next !== undefined) {
      if (seen.includes(next)) {
        problems.push({
          path: ['hosts', i, 'jump'],
          message: `jump hosts form a loop: ${[...seen, next].join(' → ')}`,
        });
        return;
      }
      seen.push(next);
      const index = byName.get(next);
      // A jump name not in the file is looked up in ~/.ssh/config when resolving.
      next = index === undefined ? undefined : hosts[index]?.jump;
    }
  });
  return problems;
}
