import { z } from 'zod';
import type { NodeId } from '../../src-node-agent/core/ids';
import type { AnyStack } from '../../src-node-agent/core/protocol';
import { describeValue, valueAtPath } from '../validation/issue-text';
import { parseDuration } from './duration';
import { nodeTargetKeywords, type NodeTarget, type NodeTargetKeyword } from './lab-schema';

/** Building blocks of the lab-file schema (lab-file-schema.ts): issues, strict maps, durations, node names. */

/** What the schema of one lab file depends on (see lab-file-schema.ts). */
export interface LabFileContext {
  /** The file's `nodes`, when it is valid: fault targets beyond it are errors. */
  readonly nodeCount: number | null;
  /** The file's stack, when it is known: `params` are parsed by its configSchema. */
  readonly stack: AnyStack | null;
}

export type Ctx = z.core.$RefinementCtx<unknown>;

export function report(ctx: Ctx, message: string, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', message, path });
}

/** A strict map whose unknown keys are reported with the keys it does know. */
export function fields<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown field; expected one of: ${known}` : undefined,
  });
}

/** Forward issues of a nested parse, with paths relative to the current value. */
export function forward(ctx: Ctx, issues: readonly z.core.$ZodIssue[], input: unknown): void {
  for (const issue of issues) {
    ctx.issues.push({ ...issue, input: valueAtPath(input, issue.path) } as z.core.$ZodRawIssue);
  }
}

export const EXPECT_DURATION = 'a duration like "5s" or "250ms"';

export const duration = z.unknown().transform((value, ctx): number => {
  const ms = parseDuration(value);
  if (ms !== null) return ms;
  report(
    ctx,
    value === undefined
      ? `missing; expected ${EXPECT_DURATION}`
      : `expected ${EXPECT_DURATION}, got ${describeValue(value)}`,
  );
  return z.NEVER;
});

export const probability = z.number().min(0).max(1);

export function nodeRange(nodeCount: number | null): string {
  return nodeCount === null ? 'n1..nN' : nodeCount === 1 ? 'n1' : `n1..n${String(nodeCount)}`;
}

/** "n3" → that node (checked against the node count); with keywords also leader, random, … */
export function parseNodeName(
  value: unknown,
  ctx: Ctx,
  nodeCount: number | null,
  keywords: boolean,
): NodeTarget | typeof z.NEVER {
  const expected = keywords
    ? `a node (${nodeRange(nodeCount)}) or one of ${nodeTargetKeywords.join(', ')}`
    : `a node (${nodeRange(nodeCount)})`;
  if (typeof value === 'string') {
    if (keywords && (nodeTargetKeywords as readonly string[]).includes(value)) {
      return { kind: value as NodeTargetKeyword };
    }
    const match = /^n([1-9]\d*)$/.exec(value);
    if (match !== null) {
      const index = Number(match[1]);
      if (nodeCount === null || index <= nodeCount) return { kind: 'node', node: value };
      report(
        ctx,
        `node ${value} does not exist: this lab has ${String(nodeCount)} node(s) (${nodeRange(nodeCount)})`,
      );
      return z.NEVER;
    }
  }
  report(
    ctx,
    value === undefined
      ? `missing; expected ${expected}`
      : `expected ${expected}, got ${describeValue(value)}`,
  );
  return z.NEVER;
}

export function nodeTarget(c: LabFileContext) {
  return z
    .unknown()
    .transform((value, ctx): NodeTarget => parseNodeName(value, ctx, c.nodeCount, true));
}

export function explicitNode(c: LabFileContext) {
  return z.unknown().transform((value, ctx): NodeId => {
    const target = parseNodeName(value, ctx, c.nodeCount, false);
    return target === z.NEVER ? z.NEVER : (target as { node: NodeId }).node;
  });
}
