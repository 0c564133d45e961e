import { describe, expect, it } from 'vitest';
import { linkRulesForFault } from '../../../src-main/orchestrator/link-rules-for-fault';
import { LiveState } from '../../../src-main/orchestrator/live-state';

const servers = ['n1', 'n2', 'n3', 'n4', 'n5'];

describe('linkRulesForFault', () => {
  it('a majority/minority partition cuts exactly the links between the sides, at both ends', () => {
    const rules = linkRulesForFault(
      {
        type: 'partition',
        shape: 'majority-minority',
        groups: [
          ['n1', 'n2', 'n3'],
          ['n4', 'n5'],
        ],
      },
      servers,
    );
    const n1 = rules.get('n1') ?? [];
    expect(
      n1
        .filter((r) => r.direction === 'out')
        .map((r) => r.peer)
        .sort(),
    ).toEqual(['n4', 'n5']);
    expect(
      n1
        .filter((r) => r.direction === 'in')
        .map((r) => r.peer)
        .sort(),
    ).toEqual(['n4', 'n5']);
    expect(
      (rules.get('n4') ?? [])
        .filter((r) => r.direction === 'out')
        .map((r) => r.peer)
        .sort(),
    ).toEqual(['n1', 'n2', 'n3']);
    expect(
      Array.from(rules.values())
        .flat()
        .every((r) => r.cut === true),
    ).toBe(true);
  });

  it('a bridge node keeps both sides', () => {
    const rules = linkRulesForFault(
      {
        type: 'partition',
        shape: 'bridge',
        groups: [
          ['n1', 'n2', 'n3'],
          ['n3', 'n4', 'n5'],
        ],
      },
      servers,
    );
    expect(rules.get('n3')).toBeUndefined();
    expect((rules.get('n1') ?? []).map((r) => r.peer)).not.toContain('n3');
  });

  it('a one-way cut is enforced by the sender and the receiver, and only one way', () => {
    const rules = linkRulesForFault({ type: 'cut', from: 'n1', to: 'n2' }, servers);
    expect(rules.get('n1')).toEqual([{ peer: 'n2', direction: 'out', cut: true }]);
    expect(rules.get('n2')).toEqual([{ peer: 'n1', direction: 'in', cut: true }]);
    expect(rules.size).toBe(2);
  });

  it('degrade on all links gives every sender an out rule per peer with the profile', () => {
    const rules = linkRulesForFault(
      { type: 'degrade', profile: { loss: 0.1, delay_ms: 5 } },
      servers,
    );
    expect(rules.get('n2')).toHaveLength(4);
    expect(rules.get('n2')?.[0]).toMatchObject({ direction: 'out', loss: 0.1, delay_ms: 5 });
  });
});

describe('LiveState', () => {
  it('follows the leader of the highest view and reports a live agreement violation', () => {
    const live = new LiveState('w1');
    live.onProtocol('n1', { kind: 'leader-elected', view: 0, leader: 'n1' });
    live.onProtocol('n3', { kind: 'leader-elected', view: 2, leader: 'n3' });
    live.onProtocol('n1', { kind: 'leader-elected', view: 1, leader: 'n2' });
    expect(live.leader).toBe('n3');
    live.onProtocol('n1', { kind: 'executed', slot: 1, digest: 'a' });
    live.onProtocol('n2', { kind: 'executed', slot: 1, digest: 'a' });
    expect(live.agreementSummary()).toBe('ok (1 slots)');
    live.onProtocol('n3', { kind: 'executed', slot: 1, digest: 'b' });
    expect(live.agreementSummary()).toMatch(/VIOLATED: slot 1: n1 executed a, n3 executed b/);
  });
});
