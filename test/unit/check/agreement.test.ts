import { describe, expect, it } from 'vitest';
import type { ProtocolEvent } from '../../../src-node-agent/core/events';
import {
  checkAgreement,
  MAX_REPORTED_VIOLATIONS,
  type NodeProtocolEvent,
} from '../../../src-main/check/agreement';

const executed = (node: string, slot: number, digest: string): NodeProtocolEvent => ({
  node,
  event: { kind: 'executed', slot, digest },
});
const snapshot = (node: string, slot: number, digest: string): NodeProtocolEvent => ({
  node,
  event: { kind: 'snapshot-installed', slot, digest },
});
const recovered = (node: string, slot: number): NodeProtocolEvent => ({
  node,
  event: { kind: 'recovered', view: 1, slot },
});

/** `node` executes slots from..from+digests.length-1 with these digests. */
function log(node: string, digests: readonly string[], from = 1): NodeProtocolEvent[] {
  return digests.map((digest, i) => executed(node, from + i, digest));
}

describe('checkAgreement', () => {
  it('accepts identical logs on every node', () => {
    const result = checkAgreement([
      ...log('n1', ['a', 'b', 'c']),
      ...log('n2', ['a', 'b', 'c']),
      ...log('n3', ['a', 'b', 'c']),
    ]);
    expect(result).toMatchObject({
      valid: true,
      nodes: ['n1', 'n2', 'n3'],
      slotsChecked: 3,
      highestCommonSlot: 3,
    });
    expect(result.violations).toEqual([]);
  });

  it('accepts a lagging node whose log is a prefix of the others', () => {
    const result = checkAgreement([...log('n1', ['a', 'b', 'c']), ...log('n2', ['a'])]);
    expect(result).toMatchObject({ valid: true, highestCommonSlot: 1, slotsChecked: 3 });
  });

  it('rejects two nodes executing different commands in one slot, naming the slot and both nodes', () => {
    const result = checkAgreement([...log('n1', ['a', 'b', 'c']), ...log('n2', ['a', 'X', 'c'])]);
    expect(result.valid).toBe(false);
    expect(result.violations).toEqual([
      {
        kind: 'conflict',
        slot: 2,
        nodes: ['n1', 'n2'],
        detail: 'slot 2: n1 executed b but n2 executed X',
      },
    ]);
  });

  it('rejects a node that skips a slot', () => {
    const result = checkAgreement([
      ...log('n1', ['a', 'b', 'c']),
      executed('n2', 1, 'a'),
      executed('n2', 3, 'c'),
    ]);
    expect(result.valid).toBe(false);
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatchObject({ kind: 'gap', slot: 3, nodes: ['n2'] });
  });

  it('rejects a first execution that does not start at slot 1', () => {
    expect(checkAgreement([executed('n1', 2, 'b')]).violations[0]).toMatchObject({
      kind: 'gap',
      slot: 2,
    });
  });

  it('rejects executing a slot again without a recovery in between', () => {
    const result = checkAgreement([...log('n1', ['a', 'b']), executed('n1', 2, 'b')]);
    expect(result.violations[0]).toMatchObject({ kind: 'gap', slot: 2, nodes: ['n1'] });
  });

  it('accepts a jump over slots covered by an installed snapshot', () => {
    const result = checkAgreement([
      ...log('n1', ['a', 'b', 'c', 'd', 'e']),
      ...log('n2', ['a']),
      snapshot('n2', 3, 'state-after-3'),
      ...log('n2', ['d', 'e'], 4),
    ]);
    expect(result).toMatchObject({ valid: true, highestCommonSlot: 5 });
  });

  it('rejects two snapshots of one slot with different state digests', () => {
    const result = checkAgreement([snapshot('n1', 3, 's1'), snapshot('n2', 3, 's2')]);
    expect(result.violations[0]).toMatchObject({ kind: 'conflict', slot: 3, nodes: ['n1', 'n2'] });
  });

  it('accepts a recovered node that replays its log identically', () => {
    const result = checkAgreement([
      ...log('n1', ['a', 'b', 'c', 'd']),
      ...log('n2', ['a', 'b', 'c']),
      recovered('n2', 1),
      ...log('n2', ['b', 'c', 'd'], 2),
    ]);
    expect(result).toMatchObject({ valid: true, highestCommonSlot: 4 });
  });

  it('rejects a recovered node that replays a slot differently', () => {
    const result = checkAgreement([
      ...log('n2', ['a', 'b', 'c']),
      recovered('n2', 1),
      ...log('n2', ['b', 'Z'], 2),
    ]);
    expect(result.valid).toBe(false);
    expect(result.violations).toEqual([
      {
        kind: 'reexecuted-differently',
        slot: 3,
        nodes: ['n2'],
        detail: 'n2 executed slot 3 as c but re-executed it as Z',
      },
    ]);
  });

  it('rejects a recovered node that resumes past the slot it recovered to', () => {
    const result = checkAgreement([
      ...log('n1', ['a', 'b', 'c']),
      recovered('n1', 1),
      executed('n1', 3, 'c'),
    ]);
    expect(result.violations[0]).toMatchObject({ kind: 'gap', slot: 3 });
  });

  it('ignores events other than executed, snapshot-installed and recovered', () => {
    const other: ProtocolEvent[] = [
      { kind: 'leader-elected', view: 1, leader: 'n1' },
      { kind: 'committed', slot: 9, view: 1, requests: 1 },
      { kind: 'snapshot-taken', slot: 9 },
      { kind: 'note', text: 'hello' },
    ];
    const result = checkAgreement([
      ...other.map((event) => ({ node: 'n1', event })),
      ...log('n1', ['a']),
    ]);
    expect(result).toMatchObject({ valid: true, slotsChecked: 1, nodes: ['n1'] });
  });

  it('reports a bounded number of violations but counts them all', () => {
    const digests = Array.from({ length: 30 }, (_, i) => `d${String(i)}`);
    const result = checkAgreement([
      ...log('n1', digests),
      ...log(
        'n2',
        digests.map((d) => `${d}'`),
      ),
    ]);
    expect(result.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
    expect(result.violationCount).toBe(30);
    expect(result.valid).toBe(false);
  });

  it('rejects a slot that is not a non-negative integer, naming the node', () => {
    expect(() => checkAgreement([executed('n4', 1.5, 'a')])).toThrow(/executed on n4\): slot 1.5/);
  });
});
