import { z } from 'zod';
import { linkProfileSchema, partitionShapes } from '../../src-node-agent/core/faults';
import { describeValue } from '../validation/issue-text';
import { formatDuration } from './duration';
import type { LabFault, NodeTarget } from './lab-schema';
import {
  duration,
  explicitNode,
  fields,
  forward,
  nodeTarget,
  probability,
  report,
  type LabFileContext,
} from './lab-file-fields';

/** The `faults:` entries of a lab file: one action per entry, like `{ at: 5s, crash: leader }`. */

// ------------------------------------------------------------------ faults

const FAULT_ACTIONS = [
  'crash',
  'restart',
  'pause',
  'resume',
  'partition',
  'heal',
  'cut',
  'degrade',
  'byzantine',
] as const;
type FaultActionKey = (typeof FAULT_ACTIONS)[number];

/** YAML names of link-profile fields. */
const PROFILE_FIELDS = {
  delay: 'delay_ms',
  jitter: 'jitter_ms',
  loss: 'loss',
  duplicate: 'duplicate',
  reorder: 'reorder',
} as const;

function faultSchemas(c: LabFileContext): Record<FaultActionKey, z.ZodType<LabFault>> {
  const target = nodeTarget(c);
  const node = explicitNode(c);
  const processFault = (key: 'crash' | 'restart' | 'pause' | 'resume') => {
    const shape: Record<string, z.ZodType> = { at: duration, [key]: target };
    return fields(shape).transform((f): LabFault => ({
      at_ms: f['at'] as number,
      action: { type: key, target: f[key] as NodeTarget },
    }));
  };

  const partition = fields({
    at: duration,
    partition: z.enum(partitionShapes),
    'minority-includes': target.optional(),
    node: target.optional(),
    groups: z.array(z.array(node).min(1)).min(2).optional(),
  }).transform((p, ctx): LabFault => {
    const shape = p.partition;
    if (p['minority-includes'] !== undefined && shape !== 'majority-minority') {
      report(ctx, `minority-includes applies only to partition: majority-minority, not ${shape}`, [
        'minority-includes',
      ]);
    }
    if (p.node !== undefined && shape !== 'isolate' && shape !== 'bridge') {
      report(
        ctx,
        `node applies only to partition: isolate (the isolated node) or bridge (the bridge node), not ${shape}`,
        ['node'],
      );
    }
    if (shape === 'groups' && p.groups === undefined) {
      report(ctx, 'partition: groups needs groups: [[n1, n2], [n3, n4, n5]]', ['partition']);
    }
    if (shape !== 'groups' && p.groups !== undefined) {
      report(ctx, `groups applies only to partition: groups, not ${shape}`, ['groups']);
    }
    return {
      at_ms: p.at,
      action: {
        type: 'partition',
        shape,
        node: p['minority-includes'] ?? p.node ?? null,
        groups: shape === 'groups' ? (p.groups ?? null) : null,
      },
    };
  });

  const heal = fields({ at: duration, heal: z.enum(['network', 'links', 'all']) }).transform(
    (h): LabFault => ({ at_ms: h.at, action: { type: 'heal', what: h.heal } }),
  );

  const cut = fields({ at: duration, cut: fields({ from: target, to: target }) }).transform(
    (f, ctx): LabFault => {
      const { from, to } = f.cut;
      if (from.kind === 'node' && to.kind === 'node' && from.node === to.node) {
        report(ctx, `a cut needs two different nodes, got ${from.node} twice`, ['cut', 'to']);
      }
      return { at_ms: f.at, action: { type: 'cut', from, to } };
    },
  );

  const degrade = fields({
    at: duration,
    degrade: fields({
      links: z
        .array(z.tuple([node, node]))
        .min(1)
        .optional(),
      delay: duration.optional(),
      jitter: duration.optional(),
      loss: probability.optional(),
      duplicate: probability.optional(),
      reorder: probability.optional(),
    }),
  }).transform((f, ctx): LabFault => {
    const d = f.degrade;
    const profile: Record<string, number> = {};
    for (const [yamlKey, profileKey] of Object.entries(PROFILE_FIELDS)) {
      const value = d[yamlKey as keyof typeof PROFILE_FIELDS];
      if (value !== undefined) profile[profileKey] = value;
    }
    if (Object.keys(profile).length === 0) {
      report(ctx, `degrade needs at least one of ${Object.keys(PROFILE_FIELDS).join(', ')}`, [
        'degrade',
      ]);
      return z.NEVER;
    }
    const parsed = linkProfileSchema.safeParse(profile);
    if (!parsed.success) {
      const yamlName = new Map<string, string>(
        Object.entries(PROFILE_FIELDS).map(([y, p]) => [p, y]),
      );
      for (const issue of parsed.error.issues) {
        const key = String(issue.path[0]);
        report(
          ctx,
          `expected at most ${formatDuration(60_000)}, got ${formatDuration(Number(d[yamlName.get(key) as keyof typeof PROFILE_FIELDS]))}`,
          ['degrade', yamlName.get(key) ?? key],
        );
      }
      return z.NEVER;
    }
    return {
      at_ms: f.at,
      action: { type: 'degrade', links: d.links ?? null, profile: parsed.data },
    };
  });

  const byzantine = fields({
    at: duration,
    byzantine: target,
    behaviour: z.string(),
  }).transform((f, ctx): LabFault => {
    const known = c.stack?.byzantineBehaviours;
    if (c.stack !== null && known === undefined) {
      report(ctx, `stack ${c.stack.name} has no Byzantine behaviours (pbft has)`, ['byzantine']);
      return z.NEVER;
    }
    if (f.behaviour !== 'honest' && known !== undefined && !known.includes(f.behaviour)) {
      report(
        ctx,
        `unknown behaviour ${f.behaviour}; expected honest or one of: ${known.join(', ')}`,
        ['behaviour'],
      );
      return z.NEVER;
    }
    return {
      at_ms: f.at,
      action: {
        type: 'byzantine',
        target: f.byzantine,
        behaviour: f.behaviour === 'honest' ? null : f.behaviour,
      },
    };
  });

  return {
    byzantine,
    crash: processFault('crash'),
    restart: processFault('restart'),
    pause: processFault('pause'),
    resume: processFault('resume'),
    partition,
    heal,
    cut,
    degrade,
  };
}

export function faultSchema(c: LabFileContext) {
  const byAction = faultSchemas(c);
  const example = '{ at: 5s, crash: leader }';
  return z.unknown().transform((value, ctx): LabFault => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      report(ctx, `expected a fault like ${example}, got ${describeValue(value)}`);
      return z.NEVER;
    }
    const present = FAULT_ACTIONS.filter((key) => key in value);
    const [first, second] = present;
    if (first === undefined) {
      report(
        ctx,
        `a fault needs one action besides at: (${FAULT_ACTIONS.join(', ')}), like ${example}; found ${Object.keys(value).join(', ') || 'no fields'}`,
      );
      return z.NEVER;
    }
    if (second !== undefined) {
      report(
        ctx,
        `one action per fault: this one has both ${first} and ${second}; write them as two faults`,
        [second],
      );
      return z.NEVER;
    }
    const parsed = byAction[first].safeParse(value);
    if (parsed.success) return parsed.data;
    forward(ctx, parsed.error.issues, value);
    return z.NEVER;
  });
}
