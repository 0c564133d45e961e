import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../../src-node-agent/core/ids';
import { partitionGroups } from '../../../src-node-agent/core/partition-groups';
import { partitionShapes } from '../../../src-node-agent/core/faults';
import { Prng } from '../../../src-node-agent/sim/prng';
import { linkRulesForFault } from '../../../src-main/orchestrator/link-rules-for-fault';
import {
  degradePlan,
  dropPairs,
  netemArgs,
  nftFaultScript,
  nftHealScript,
  nftNeutralizeScript,
  tbfArgs,
  type NodeAddress,
} from '../../../src-main/testbeds/netns/kernel-fault-plan';
import { findTool } from '../../../src-main/testbeds/netns/run-tool';

const nodes = new Map<NodeId, NodeAddress>(
  [1, 2, 3, 4, 5].map((i) => [`n${i}`, { ip: `10.77.9.${10 + i}`, namespace: `fl-t-n${i}` }]),
);
const ipOf = (id: string): string => nodes.get(id)!.ip;
const table = { family: 'bridge', name: 'faultlab_unit' };

describe('kernel fault plan', () => {
  it('partitions drop exactly the directed pairs the agent link filter cuts (randomized)', () => {
    const seed = Number(process.env['FAULTLAB_SEED'] ?? Date.now() % 100_000);
    console.log(
      `kernel-fault-plan partitions: seed=${seed} (reproduce with FAULTLAB_SEED=${seed})`,
    );
    const prng = new Prng(seed);
    const ids = [...nodes.keys()];
    for (let round = 0; round < 200; round++) {
      const order = [...ids];
      for (let i = order.length - 1; i > 0; i--) {
        const j = prng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const shape = partitionShapes[prng.int(partitionShapes.length)]!;
      const groups =
        shape === 'groups'
          ? [order.slice(0, 2), order.slice(2)]
          : partitionGroups(shape, order, 1 + prng.int(2));
      const fault = { type: 'partition' as const, shape, groups };
      const expected = [...linkRulesForFault(fault, ids)]
        .flatMap(([from, rules]) =>
          rules.filter((r) => r.direction === 'out').map((r) => `${ipOf(from)}>${ipOf(r.peer)}`),
        )
        .sort();
      const got = dropPairs(fault, nodes)
        .map(([s, d]) => `${s}>${d}`)
        .sort();
      expect(got, `round ${round} ${JSON.stringify(groups)}`).toEqual(expected);
    }
  });

  it('a cut drops one direction only', () => {
    expect(dropPairs({ type: 'cut', from: 'n1', to: 'n2' }, nodes)).toEqual([
      [ipOf('n1'), ipOf('n2')],
    ]);
  });

  it('an unknown node is an error naming it and the known nodes', () => {
    expect(() => dropPairs({ type: 'cut', from: 'n1', to: 'n9' }, nodes)).toThrow(/"n9".*n1, n2/);
  });

  it('the nft batch creates only our table and chain, exempts ssh, and drops by pair set', () => {
    const script = nftFaultScript(table, 'f3', [['10.0.0.1', '10.0.0.2']]);
    expect(script).toContain('add table bridge faultlab_unit');
    expect(script).toContain(
      'add chain bridge faultlab_unit f3 { type filter hook forward priority 0; policy accept; }',
    );
    expect(script.indexOf('tcp dport 22 accept')).toBeLessThan(script.indexOf('drop'));
    expect(script).toContain('ip saddr . ip daddr { 10.0.0.1 . 10.0.0.2 } drop');
    expect(script).not.toMatch(/flush|delete/);
    expect(nftNeutralizeScript(table, ['f1', 'f2'])).toBe(
      'insert rule bridge faultlab_unit f1 return\ninsert rule bridge faultlab_unit f2 return\n',
    );
    expect(nftHealScript(table, ['f1', 'f2'])).toBe(
      'delete chain bridge faultlab_unit f1\ndelete chain bridge faultlab_unit f2\n',
    );
  });

  it.skipIf(process.getuid?.() !== 0)(
    'the nft batch is valid nftables (nft --check, nothing applied)',
    async () => {
      const pairs = dropPairs(
        {
          type: 'partition',
          shape: 'halves',
          groups: [
            ['n1', 'n2'],
            ['n3', 'n4', 'n5'],
          ],
        },
        nodes,
      );
      const script = nftFaultScript(table, 'f1', pairs);
      await new Promise<void>((resolve, reject) => {
        const child = execFile(
          findTool('nft'),
          ['--check', '-f', '-'],
          { timeout: 10_000 },
          (err, _o, stderr) =>
            err === null ? resolve() : reject(new Error(`${err.message}: ${stderr}`)),
        );
        child.stdin!.end(script);
      });
    },
  );

  it('degrade without netem: rate → tbf on the sender toward the receiver, the rest → agent fallback', () => {
    const plan = degradePlan(
      {
        type: 'degrade',
        links: [
          ['n1', 'n2'],
          ['n1', 'n3'],
          ['n4', 'n1'],
        ],
        profile: { rate_kbit: 1000, loss: 0.2 },
      },
      nodes,
      { available: false, reason: 'no netem here' },
    );
    expect(plan.fallback).toEqual({ profile: { loss: 0.2 }, reason: 'no netem here' });
    expect(plan.shapes.map((s) => [s.from, s.destinations, s.leaf[0]])).toEqual([
      ['n1', [ipOf('n2'), ipOf('n3')], 'tbf'],
      ['n4', [ipOf('n1')], 'tbf'],
    ]);
  });

  it('degrade with only netem parameters and no netem: nothing in the kernel, all to the agent', () => {
    const plan = degradePlan({ type: 'degrade', profile: { delay_ms: 10 } }, nodes, {
      available: false,
    });
    expect(plan.shapes).toEqual([]);
    expect(plan.fallback?.profile).toEqual({ delay_ms: 10 });
  });

  it('degrade with netem: one netem leaf carries delay, jitter, loss, duplication, reordering and rate', () => {
    const plan = degradePlan(
      {
        type: 'degrade',
        profile: {
          delay_ms: 20,
          jitter_ms: 5,
          loss: 0.1,
          duplicate: 0.01,
          reorder: 0.25,
          rate_kbit: 500,
        },
      },
      nodes,
      { available: true },
    );
    expect(plan.fallback).toBeNull();
    expect(plan.shapes).toHaveLength(5);
    expect(plan.shapes[0]!.destinations).toHaveLength(4);
    expect(plan.shapes[0]!.leaf).toEqual([
      'netem',
      'delay',
      '20ms',
      '5ms',
      'loss',
      '10%',
      'duplicate',
      '1%',
      'reorder',
      '25%',
      'rate',
      '500kbit',
    ]);
    // Reordering needs a hold-back to be visible.
    expect(netemArgs({ reorder: 0.5 })).toEqual(['netem', 'delay', '5ms', 'reorder', '50%']);
  });

  it('tbf burst is at least two frames and grows with the rate', () => {
    expect(tbfArgs(100)).toEqual(['tbf', 'rate', '100kbit', 'burst', '3028', 'latency', '100ms']);
    expect(tbfArgs(1_000_000)[4]).toBe('1250000');
    expect(() =>
      degradePlan({ type: 'degrade', profile: { rate_kbit: 0 } }, nodes, { available: true }),
    ).toThrow(/positive/);
  });
});
