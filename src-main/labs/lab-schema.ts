import { z } from 'zod';
import {
  linkProfileSchema,
  partitionShapes,
  type LinkProfile,
} from '../../src-node-agent/core/faults';
import type { NodeId } from '../../src-node-agent/core/ids';
import { workloadSpecSchema, type WorkloadSpec } from '../../src-node-agent/control/workload-spec';
import { nemesisActions, type NemesisAction } from '../../src-node-agent/sim/nemesis';

/**
 * A lab as FaultLab runs it: the lab file (lab-file-schema.ts, kebab-case YAML) resolved to
 * camelCase, durations in milliseconds, defaults filled in and the stack parameters parsed by
 * the stack's own schema. This is what a run manifest stores as `lab`, so a recording can be
 * re-checked and re-executed without the original file.
 */
export const LAB_FILE_VERSION = 1;

export const nodeTargetKeywords = ['leader', 'random', 'last-crashed', 'last-paused'] as const;
export type NodeTargetKeyword = (typeof nodeTargetKeywords)[number];

/**
 * Which node a fault hits, decided when the fault fires (resolve-lab-fault.ts): a fixed node,
 * the current leader, a seeded random one, or the node the last crash/pause of the script hit.
 */
export type NodeTarget =
  { readonly kind: 'node'; readonly node: NodeId } | { readonly kind: NodeTargetKeyword };

export type PartitionShape = (typeof partitionShapes)[number];

export type LabFaultAction =
  | { readonly type: 'crash'; readonly target: NodeTarget }
  /** Restart a crashed node on the same work directory (stable storage survives). */
  | { readonly type: 'restart'; readonly target: NodeTarget }
  | { readonly type: 'pause'; readonly target: NodeTarget }
  | { readonly type: 'resume'; readonly target: NodeTarget }
  | {
      readonly type: 'partition';
      readonly shape: PartitionShape;
      /**
       * isolate: the isolated node; bridge: the bridge node; majority-minority: a node the
       * minority must include; null: chosen by the seeded PRNG. Always null for halves/groups.
       */
      readonly node: NodeTarget | null;
      /** Explicit groups, for shape `groups` only. */
      readonly groups: readonly (readonly NodeId[])[] | null;
    }
  /** network: heal partitions and cuts; links: restore degraded links; all: every fault. */
  | { readonly type: 'heal'; readonly what: 'network' | 'links' | 'all' }
  /** One-way: messages from `from` to `to` are dropped. */
  | { readonly type: 'cut'; readonly from: NodeTarget; readonly to: NodeTarget }
  /** Turn a replica Byzantine (a behaviour of its stack) or honest again (null) while it runs. */
  | { readonly type: 'byzantine'; readonly target: NodeTarget; readonly behaviour: string | null }
  | {
      readonly type: 'degrade';
      /** Directed links [from, to]; null = every link between servers. */
      readonly links: readonly (readonly [NodeId, NodeId])[] | null;
      readonly profile: LinkProfile;
    };

export interface LabFault {
  /** Offset from the start of the run. */
  readonly at_ms: number;
  readonly action: LabFaultAction;
}

/** The seeded random fault schedule (sim/nemesis.ts randomSchedule), drawn from the lab's seed. */
export interface LabNemesis {
  readonly from_ms: number;
  readonly until_ms: number;
  /** Mean gap between two faults. */
  readonly interval_ms: number;
  readonly kinds: readonly NemesisAction[];
}

/** Progress after a disruptive fault: a fixed bound, or a number of the stack's election timeouts. */
export type ProgressRequirement =
  { readonly within_ms: number } | { readonly electionTimeouts: number };

export interface LabChecks {
  readonly linearizable: boolean;
  readonly agreement: boolean;
  readonly progressAfterFault: ProgressRequirement | null;
  /** Successful client operations per second over the whole run. */
  readonly minThroughput_per_s: number | null;
}

export type TestbedKind = 'local' | 'netns' | 'ssh';

export interface LabConfig {
  readonly version: typeof LAB_FILE_VERSION;
  /** [a-z0-9-]; names the run directory runs/<name>/<timestamp>/. */
  readonly name: string;
  readonly title: string;
  readonly description: string | null;
  readonly stack: string;
  /** Parsed by the stack's configSchema: defaults are filled in. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly nodes: number;
  readonly testbed: TestbedKind;
  readonly duration_ms: number;
  readonly seed: number;
  readonly workload: WorkloadSpec;
  /** The timed fault script, sorted by at_ms (stable: equal times keep file order). */
  readonly faults: readonly LabFault[];
  readonly nemesis: LabNemesis | null;
  readonly checks: LabChecks;
  readonly questions: readonly string[];
}

// ------------------------------------------------------------------ the resolved schema

const nodeId = z.string().regex(/^n[1-9]\d*$/);

export const nodeTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('node'), node: nodeId }).strict(),
  ...nodeTargetKeywords.map((kind) => z.object({ kind: z.literal(kind) }).strict()),
]);

const duration_ms = z.number().min(0).finite();

export const labFaultActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('crash'), target: nodeTargetSchema }).strict(),
  z.object({ type: z.literal('restart'), target: nodeTargetSchema }).strict(),
  z.object({ type: z.literal('pause'), target: nodeTargetSchema }).strict(),
  z.object({ type: z.literal('resume'), target: nodeTargetSchema }).strict(),
  z
    .object({
      type: z.literal('partition'),
      shape: z.enum(partitionShapes),
      node: nodeTargetSchema.nullable(),
      groups: z.array(z.array(nodeId).min(1)).min(2).nullable(),
    })
    .strict()
    .refine((p) => (p.shape === 'groups') === (p.groups !== null), {
      message: 'groups are given exactly when the shape is "groups"',
    }),
  z.object({ type: z.literal('heal'), what: z.enum(['network', 'links', 'all']) }).strict(),
  z.object({ type: z.literal('cut'), from: nodeTargetSchema, to: nodeTargetSchema }).strict(),
  z
    .object({
      type: z.literal('degrade'),
      links: z.array(z.tuple([nodeId, nodeId])).nullable(),
      profile: linkProfileSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('byzantine'),
      target: nodeTargetSchema,
      behaviour: z.string().min(1).max(64).nullable(),
    })
    .strict(),
]);

export const labConfigSchema: z.ZodType<LabConfig> = z
  .object({
    version: z.literal(LAB_FILE_VERSION),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    title: z.string().min(1),
    description: z.string().nullable(),
    stack: z.string().min(1),
    params: z.record(z.string(), z.unknown()),
    nodes: z.number().int().min(1).max(64),
    testbed: z.enum(['local', 'netns', 'ssh']),
    duration_ms: duration_ms.positive(),
    seed: z.number().int().min(0),
    workload: workloadSpecSchema,
    faults: z.array(z.object({ at_ms: duration_ms, action: labFaultActionSchema }).strict()),
    nemesis: z
      .object({
        from_ms: duration_ms,
        until_ms: duration_ms,
        interval_ms: duration_ms.positive(),
        kinds: z.array(z.enum(nemesisActions)).min(1),
      })
      .strict()
      .nullable(),
    checks: z
      .object({
        linearizable: z.boolean(),
        agreement: z.boolean(),
        progressAfterFault: z
          .union([
            z.object({ within_ms: duration_ms }).strict(),
            z.object({ electionTimeouts: z.number().positive().finite() }).strict(),
          ])
          .nullable(),
        minThroughput_per_s: z.number().positive().finite().nullable(),
      })
      .strict(),
    questions: z.array(z.string()),
  })
  .strict();

// ------------------------------------------------------------------ thresholds

export interface LabThresholds {
  /** How soon a `committed` event must follow each disruptive fault; null = not checked. */
  readonly progressAfterFault_ms: number | null;
  readonly minThroughput_per_s: number | null;
}

/**
 * The checks' thresholds in numbers: `{ electionTimeouts: k }` becomes k × the stack's
 * `electionTimeout_ms` parameter (the lab's params have the stack's defaults filled in).
 */
export function resolveThresholds(lab: LabConfig): LabThresholds {
  const progress = lab.checks.progressAfterFault;
  let progressAfterFault_ms: number | null = null;
  if (progress !== null) {
    if ('within_ms' in progress) {
      progressAfterFault_ms = progress.within_ms;
    } else {
      const timeout_ms = lab.params['electionTimeout_ms'];
      if (typeof timeout_ms !== 'number' || !Number.isFinite(timeout_ms)) {
        throw new Error(
          `lab ${lab.name}: progress-after-fault is given in election timeouts, but stack ${lab.stack} ` +
            `has no numeric electionTimeout_ms parameter; give it as { within: 250ms } instead`,
        );
      }
      progressAfterFault_ms = progress.electionTimeouts * timeout_ms;
    }
  }
  return { progressAfterFault_ms, minThroughput_per_s: lab.checks.minThroughput_per_s };
}

export function describeNodeTarget(target: NodeTarget): string {
  return target.kind === 'node' ? target.node : target.kind;
}
