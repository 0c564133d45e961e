import { partitionShapes } from '../../src-node-agent/core/faults';
import {
  nodeTargetKeywords,
  type LabFaultAction,
  type NodeTarget,
  type PartitionShape,
} from '../labs/lab-schema';

export const OPERATOR_HELP = [
  'commands while a run is going (type one and press Enter):',
  '  crash <node>      restart <node>     pause <node>     resume <node>',
  '  partition <isolate|halves|majority-minority|bridge> [node]',
  '  cut <from> <to>   heal [network|links|all]           help',
  '  <node> is n1…nN, leader, random, last-crashed or last-paused',
];

/**
 * One line typed by the operator during `faultlab run`, as a lab fault action (the same
 * vocabulary as a lab's fault script). Returns an error sentence for anything else.
 */
export function parseOperatorCommand(
  line: string,
  nodes: number,
): LabFaultAction | { error: string } {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const [verb, ...rest] = words;
  const target = (word: string | undefined): NodeTarget | { error: string } => {
    if (word === undefined)
      return {
        error: `"${verb ?? ''}" needs a node: n1…n${nodes}, leader, random, last-crashed or last-paused`,
      };
    if ((nodeTargetKeywords as readonly string[]).includes(word))
      return { kind: word as NodeTarget['kind'] } as NodeTarget;
    const m = /^n([1-9]\d*)$/.exec(word);
    if (m !== null && Number(m[1]) <= nodes) return { kind: 'node', node: word };
    return {
      error: `"${word}" is not a node of this run (n1…n${nodes}, leader, random, last-crashed, last-paused)`,
    };
  };
  switch (verb) {
    case 'crash':
    case 'restart':
    case 'pause':
    case 'resume': {
      const t = target(rest[0]);
      return 'error' in t ? t : { type: verb, target: t };
    }
    case 'partition': {
      const shape = rest[0] as PartitionShape | undefined;
      if (
        shape === undefined ||
        !(partitionShapes as readonly string[]).includes(shape) ||
        shape === 'groups'
      ) {
        return { error: 'partition needs a shape: isolate, halves, majority-minority or bridge' };
      }
      if (rest[1] === undefined) return { type: 'partition', shape, node: null, groups: null };
      const t = target(rest[1]);
      return 'error' in t ? t : { type: 'partition', shape, node: t, groups: null };
    }
    case 'cut': {
      const from = target(rest[0]);
      if ('error' in from) return from;
      const to = target(rest[1]);
      return 'error' in to ? to : { type: 'cut', from, to };
    }
    case 'heal': {
      const what = rest[0] ?? 'all';
      if (what !== 'network' && what !== 'links' && what !== 'all')
        return { error: 'heal takes network, links or all' };
      return { type: 'heal', what };
    }
    default:
      return { error: `unknown command "${verb ?? ''}"; type help` };
  }
}
