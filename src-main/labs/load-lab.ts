import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { AnyStack } from '../../src-node-agent/core/protocol';
import { stacks } from '../../src-node-agent/stacks';
import { formatPath, issueMessage, valueAtPath, type IssuePath } from '../validation/issue-text';
import { lineOf } from '../validation/yaml-lines';
import { labFileSchema } from './lab-file-schema';
import { labConfigSchema, type LabConfig, type NodeTarget } from './lab-schema';

/** One problem in a lab: where (file, line, field) and what is expected. */
export interface LabIssue {
  readonly file: string;
  /** 1-based; null when the problem has no place in the file (e.g. a lab stored in run.json). */
  readonly line: number | null;
  readonly path: string;
  readonly message: string;
}

export function formatLabIssue(issue: LabIssue): string {
  const where = issue.line === null ? issue.file : `${issue.file}:${String(issue.line)}`;
  return `${where}: ${issue.path}: ${issue.message}`;
}

/** A lab that cannot be used; `message` has one line per issue, each `file:line: field: what`. */
export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(readonly issues: readonly LabIssue[]) {
    super(issues.map(formatLabIssue).join('\n'));
  }
}

/** Read and validate a lab file (YAML, version 1). Throws LabError naming file, line and field. */
export function loadLab(path: string): LabConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file; labs live in labs/<lab-id>/lab.yaml'
        : code === 'EISDIR'
          ? 'is a directory; give the lab.yaml inside it'
          : `cannot read it (${(err as Error).message})`;
    throw new LabError([{ file: path, line: null, path: '(file)', message: reason }]);
  }
  return parseLab(text, path);
}

/** Validate lab YAML `text`; `pathForMessages` names the file in errors. */
export function parseLab(text: string, pathForMessages: string): LabConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new LabError(
      doc.errors.map((err) => ({
        file: pathForMessages,
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
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LabError([
      {
        file: pathForMessages,
        line: 1,
        path: '(top level)',
        message: 'expected a map of lab fields (name:, title:, stack:, nodes:, …)',
      },
    ]);
  }
  const fields = raw as Record<string, unknown>;
  const nodes = fields['nodes'];
  const stackName = fields['stack'];
  const schema = labFileSchema({
    nodeCount: typeof nodes === 'number' && Number.isInteger(nodes) && nodes >= 1 ? nodes : null,
    stack: typeof stackName === 'string' ? (stacks.get(stackName) ?? null) : null,
  });
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) =>
    toLabIssues(issue, raw, (path) => lineOf(doc, lineCounter, path), pathForMessages),
  );
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new LabError(issues);
}

/**
 * Validate a lab already resolved (e.g. the `lab` of a run manifest): the shape, the stack,
 * its parameters (defaults filled in again), the cluster size and the node names.
 */
export function validateResolvedLab(value: unknown, source: string): LabConfig {
  const result = labConfigSchema.safeParse(value);
  const problem = (path: IssuePath, message: string): LabIssue => ({
    file: source,
    line: null,
    path: `lab.${formatPath(path)}`,
    message,
  });
  if (!result.success) {
    throw new LabError(
      result.error.issues.flatMap((issue) =>
        toLabIssues(issue, value, () => null, source).map((i) => ({
          ...i,
          path: `lab.${i.path}`,
        })),
      ),
    );
  }
  const lab = result.data;
  const stack: AnyStack | undefined = stacks.get(lab.stack);
  if (stack === undefined) {
    throw new LabError([
      problem(
        ['stack'],
        `unknown stack "${lab.stack}"; known stacks: ${Array.from(stacks.keys()).join(', ')}`,
      ),
    ]);
  }
  const params = stack.configSchema.safeParse(lab.params);
  if (!params.success) {
    throw new LabError(
      params.error.issues.map((issue) =>
        problem(
          ['params', ...issue.path],
          issueMessage(issue, valueAtPath(lab.params, issue.path)),
        ),
      ),
    );
  }
  const issues: LabIssue[] = [];
  const sizeProblem = stack.validateClusterSize(lab.nodes, params.data);
  if (sizeProblem !== null) issues.push(problem(['nodes'], sizeProblem));
  const exists = (node: string): boolean => Number(node.slice(1)) <= lab.nodes;
  const checkTarget = (target: NodeTarget | null, path: IssuePath): void => {
    if (target?.kind === 'node' && !exists(target.node)) {
      issues.push(
        problem(
          path,
          `node ${target.node} does not exist: the lab has ${String(lab.nodes)} node(s)`,
        ),
      );
    }
  };
  lab.faults.forEach(({ action }, i) => {
    const at: IssuePath = ['faults', i, 'action'];
    switch (action.type) {
      case 'crash':
      case 'restart':
      case 'pause':
      case 'resume':
        checkTarget(action.target, [...at, 'target']);
        break;
      case 'partition':
        checkTarget(action.node, [...at, 'node']);
        action.groups?.forEach((group, g) =>
          group.forEach((node, j) => checkTarget({ kind: 'node', node }, [...at, 'groups', g, j])),
        );
        break;
      case 'cut':
        checkTarget(action.from, [...at, 'from']);
        checkTarget(action.to, [...at, 'to']);
        break;
      case 'degrade':
        action.links?.forEach((link, l) =>
          link.forEach((node, j) => checkTarget({ kind: 'node', node }, [...at, 'links', l, j])),
        );
        break;
      case 'heal':
        break;
    }
  });
  if (issues.length > 0) throw new LabError(issues);
  return { ...lab, params: params.data as Record<string, unknown> };
}

/** One zod issue as lab issues; unknown keys become one issue per key, at the key's line. */
function toLabIssues(
  issue: z.core.$ZodIssue,
  input: unknown,
  line: (path: IssuePath) => number | null,
  file: string,
): LabIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const message = issue.message.startsWith('unknown field') ? issue.message : 'unknown field';
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return { file, line: line(path), path: formatPath(path), message };
    });
  }
  return [
    {
      file,
      line: line(issue.path),
      path: formatPath(issue.path),
      message: issueMessage(issue, valueAtPath(input, issue.path)),
    },
  ];
}
