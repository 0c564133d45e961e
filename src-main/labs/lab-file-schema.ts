import { z } from 'zod';
import type { AnyStack } from '../../src-node-agent/core/protocol';
import { workloadSpecSchema } from '../../src-node-agent/control/workload-spec';
import { nemesisActions } from '../../src-node-agent/sim/nemesis';
import { stacks } from '../../src-node-agent/stacks';
import { describeValue } from '../validation/issue-text';
import { formatDuration } from './duration';
import {
  LAB_FILE_VERSION,
  type LabChecks,
  type LabConfig,
  type LabFault,
  type LabNemesis,
  type ProgressRequirement,
} from './lab-schema';

/**
 * The lab file, version 1, as written in YAML (kebab-case keys, durations like "5s"). Parsing
 * it yields a LabConfig. Every issue's path is a path in the YAML document, so the loader can
 * point at the line. The schema depends on the file's own `nodes` and `stack` (node names are
 * checked against the node count, params against the stack's schema), so it is built per file.
 */
export type { LabFileContext } from './lab-file-fields';
import {
  duration,
  fields,
  forward,
  report,
  type Ctx,
  type LabFileContext,
} from './lab-file-fields';
import { faultSchema } from './lab-file-faults';

// ------------------------------------------------------------------ workload, nemesis, checks

/** YAML name → WorkloadSpec name, to map the workload schema's issues back onto the file. */
const WORKLOAD_FIELDS = {
  clients: 'clients',
  mode: 'mode',
  rate: 'rate_per_s',
  'think-time': 'thinkTime_ms',
  keys: 'keys',
  'key-distribution': 'keyDistribution',
  mix: 'mix',
  seed: 'seed',
} as const;

/** The workload without its seed when the file leaves it to the lab's seed. */
type WorkloadDraft = Omit<z.output<typeof workloadSpecSchema>, 'seed'> & { seed: number | null };

const mixSchema = fields({
  get: z.number().min(0).optional(),
  put: z.number().min(0).optional(),
  append: z.number().min(0).optional(),
  add: z.number().min(0).optional(),
  cas: z.number().min(0).optional(),
});

const workloadSchema = fields({
  clients: z.number().int().min(1),
  mode: z.enum(['closed', 'open']).optional(),
  rate: z.number().positive().optional(),
  'think-time': duration.optional(),
  keys: z.number().int().min(1).optional(),
  'key-distribution': z.enum(['uniform', 'zipf']).optional(),
  mix: mixSchema.optional(),
  seed: z.number().int().min(0).optional(),
}).transform((w, ctx): WorkloadDraft => {
  if (w.mode === 'open' && w.rate === undefined) {
    report(ctx, 'mode: open needs rate: invocations per second over all clients', ['mode']);
  }
  if (w.mode !== 'open' && w.rate !== undefined) {
    report(
      ctx,
      'rate applies only to mode: open (closed-loop clients run as fast as replies come)',
      ['rate'],
    );
  }
  if (w.mix !== undefined && !Object.values(w.mix).some((weight) => (weight ?? 0) > 0)) {
    report(ctx, 'expected at least one operation with a positive weight', ['mix']);
  }
  const candidate: Record<string, unknown> = {};
  for (const [yamlKey, specKey] of Object.entries(WORKLOAD_FIELDS)) {
    const value = w[yamlKey as keyof typeof w];
    if (value !== undefined) candidate[specKey] = value;
  }
  const parsed = workloadSpecSchema.safeParse(candidate);
  if (!parsed.success) {
    const yamlName = new Map<string, string>(
      Object.entries(WORKLOAD_FIELDS).map(([y, s]) => [s, y]),
    );
    forward(
      ctx,
      parsed.error.issues.map((issue) => ({
        ...issue,
        path: [
          yamlName.get(String(issue.path[0])) ?? String(issue.path[0]),
          ...issue.path.slice(1),
        ],
      })),
      w,
    );
    return z.NEVER;
  }
  return { ...parsed.data, seed: w.seed ?? null };
});

const nemesisSchema = fields({
  from: duration,
  until: duration,
  interval: duration.optional(),
  kinds: z.array(z.enum(nemesisActions)).min(1).optional(),
}).transform((n): LabNemesis => ({
  from_ms: n.from,
  until_ms: n.until,
  interval_ms: n.interval ?? 1_000,
  kinds: n.kinds ?? [...nemesisActions],
}));

const progressSchema = fields({
  within: duration.optional(),
  'election-timeouts': z.number().positive().optional(),
}).transform((p, ctx): ProgressRequirement => {
  const within = p.within;
  const timeouts = p['election-timeouts'];
  if ((within === undefined) === (timeouts === undefined)) {
    report(
      ctx,
      'expected exactly one of within: (a duration like "250ms") or election-timeouts: (a number)',
    );
    return z.NEVER;
  }
  return within !== undefined ? { within_ms: within } : { electionTimeouts: timeouts as number };
});

const checksSchema = fields({
  linearizable: z.boolean().optional(),
  agreement: z.boolean().optional(),
  'progress-after-fault': progressSchema.optional(),
  'min-throughput': z.number().positive().optional(),
}).transform((c): LabChecks => ({
  linearizable: c.linearizable ?? true,
  agreement: c.agreement ?? true,
  progressAfterFault: c['progress-after-fault'] ?? null,
  minThroughput_per_s: c['min-throughput'] ?? null,
}));

// ------------------------------------------------------------------ the file

const knownStacks = (): string => Array.from(stacks.keys()).join(', ');

const stackSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value !== 'string') {
    report(ctx, `expected a stack name (one of: ${knownStacks()}), got ${describeValue(value)}`);
    return z.NEVER;
  }
  if (!stacks.has(value)) {
    report(ctx, `unknown stack "${value}"; known stacks: ${knownStacks()}`);
    return z.NEVER;
  }
  return value;
});

function paramsSchema(stack: AnyStack | null) {
  // optional(): a missing `params` means the stack's defaults.
  return z
    .unknown()
    .optional()
    .transform((value, ctx): Record<string, unknown> => {
      const input = value ?? {};
      if (typeof input !== 'object' || Array.isArray(input)) {
        report(ctx, `expected a map of stack parameters, got ${describeValue(value)}`);
        return z.NEVER;
      }
      if (stack === null) return input as Record<string, unknown>;
      const parsed = stack.configSchema.safeParse(input);
      if (parsed.success) return parsed.data as Record<string, unknown>;
      const schema: unknown = stack.configSchema;
      const known = schema instanceof z.ZodObject ? Object.keys(schema.shape).join(', ') : null;
      forward(
        ctx,
        parsed.error.issues.map((issue) =>
          issue.code === 'unrecognized_keys' && issue.path.length === 0 && known !== null
            ? { ...issue, message: `unknown field; stack ${stack.name} has: ${known}` }
            : issue,
        ),
        input,
      );
      return z.NEVER;
    });
}

const nameSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(value)) return value;
  report(
    ctx,
    value === undefined
      ? 'missing; expected a name of lowercase letters, digits and dashes, like "paxos-leader-crash"'
      : `expected a name of lowercase letters, digits and dashes (at most 64), like "paxos-leader-crash", got ${describeValue(value)}`,
  );
  return z.NEVER;
});

/** The schema of one lab file; its output is the resolved LabConfig. */
export function labFileSchema(c: LabFileContext) {
  return fields({
    version: z.literal(LAB_FILE_VERSION).optional(),
    name: nameSchema,
    title: z.string().min(1),
    description: z.string().optional(),
    stack: stackSchema,
    params: paramsSchema(c.stack),
    nodes: z.number().int().min(1).max(64),
    testbed: z.enum(['local', 'netns', 'ssh']).optional(),
    duration,
    seed: z.number().int().min(0).optional(),
    workload: workloadSchema,
    faults: z.array(faultSchema(c)).optional(),
    nemesis: nemesisSchema.optional(),
    checks: checksSchema.optional(),
    questions: z.array(z.string()).optional(),
  }).transform((lab, ctx): LabConfig => {
    crossCheck(lab, ctx, c);
    const seed = lab.seed ?? 1;
    const faults = (lab.faults ?? [])
      .map((fault, index) => ({ fault, index }))
      .sort((a, b) => a.fault.at_ms - b.fault.at_ms || a.index - b.index)
      .map(({ fault }) => fault);
    return {
      version: LAB_FILE_VERSION,
      name: lab.name,
      title: lab.title,
      description: lab.description ?? null,
      stack: lab.stack,
      params: lab.params,
      nodes: lab.nodes,
      testbed: lab.testbed ?? 'local',
      duration_ms: lab.duration,
      seed,
      workload: { ...lab.workload, seed: lab.workload.seed ?? seed },
      faults,
      nemesis: lab.nemesis ?? null,
      checks: lab.checks ?? {
        linearizable: true,
        agreement: true,
        progressAfterFault: null,
        minThroughput_per_s: null,
      },
      questions: lab.questions ?? [],
    };
  });
}

interface ParsedLabFields {
  readonly stack: string;
  readonly params: Record<string, unknown>;
  readonly nodes: number;
  readonly duration: number;
  readonly faults?: readonly LabFault[];
  readonly nemesis?: LabNemesis;
  readonly checks?: LabChecks;
}

/** Rules that relate one field to another; paths point at the field to fix. */
function crossCheck(lab: ParsedLabFields, ctx: Ctx, c: LabFileContext): void {
  if (!(lab.duration > 0)) {
    report(ctx, `expected a duration longer than 0, got ${formatDuration(lab.duration)}`, [
      'duration',
    ]);
  }
  const stack = c.stack;
  if (stack !== null) {
    const problem = stack.validateClusterSize(lab.nodes, lab.params);
    if (problem !== null) report(ctx, `stack ${stack.name}: ${problem}`, ['nodes']);
  }
  const faults = lab.faults ?? [];
  // Without a nemesis, `last-crashed`/`last-paused` can only mean an earlier fault of the script.
  const seen = { 'last-crashed': false, 'last-paused': false };
  const order = faults.map((fault, index) => ({ fault, index }));
  order.sort((a, b) => a.fault.at_ms - b.fault.at_ms || a.index - b.index);
  for (const { fault, index } of order) {
    if (fault.at_ms > lab.duration) {
      report(
        ctx,
        `at ${formatDuration(fault.at_ms)} is after the end of the run (duration ${formatDuration(lab.duration)})`,
        ['faults', index, 'at'],
      );
    }
    const action = fault.action;
    if (
      lab.nemesis === undefined &&
      (action.type === 'restart' ||
        action.type === 'resume' ||
        action.type === 'crash' ||
        action.type === 'pause')
    ) {
      const kind = action.target.kind;
      if ((kind === 'last-crashed' || kind === 'last-paused') && !seen[kind]) {
        report(
          ctx,
          `${kind}, but no earlier fault ${kind === 'last-crashed' ? 'crashes' : 'pauses'} a node`,
          ['faults', index, action.type],
        );
      }
    }
    if (action.type === 'crash') seen['last-crashed'] = true;
    if (action.type === 'pause') seen['last-paused'] = true;
  }
  const nemesis = lab.nemesis;
  if (nemesis !== undefined) {
    if (!(nemesis.from_ms < nemesis.until_ms)) {
      report(
        ctx,
        `until (${formatDuration(nemesis.until_ms)}) must be after from (${formatDuration(nemesis.from_ms)})`,
        ['nemesis', 'until'],
      );
    }
    if (nemesis.until_ms > lab.duration) {
      report(
        ctx,
        `until ${formatDuration(nemesis.until_ms)} is after the end of the run (duration ${formatDuration(lab.duration)})`,
        ['nemesis', 'until'],
      );
    }
    if (!(nemesis.interval_ms > 0)) {
      report(ctx, 'expected a duration longer than 0', ['nemesis', 'interval']);
    }
  }
  const progress = lab.checks?.progressAfterFault;
  if (
    progress !== undefined &&
    progress !== null &&
    'electionTimeouts' in progress &&
    typeof lab.params['electionTimeout_ms'] !== 'number'
  ) {
    report(
      ctx,
      `election-timeouts needs the stack's electionTimeout_ms parameter, which stack ${lab.stack} does not have; use within: 250ms`,
      ['checks', 'progress-after-fault', 'election-timeouts'],
    );
  }
}
