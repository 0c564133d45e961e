import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src-node-agent/sim/prng';
import type { LabFaultAction } from '../../../src-main/labs/lab-schema';
import { resolveLabFault, type FaultWorld } from '../../../src-main/labs/resolve-lab-fault';

const servers = ['n1', 'n2', 'n3', 'n4', 'n5'];

function world(overrides: Partial<FaultWorld> = {}): FaultWorld {
  const prng = new Prng(42);
  return {
    servers,
    leader: 'n3',
    lastCrashed: null,
    lastPaused: null,
    randomInt: (bound) => prng.int(bound),
    ...overrides,
  };
}

describe('resolveLabFault', () => {
  it('resolves leader, last-crashed and explicit targets; restart is recover', () => {
    expect(resolveLabFault({ type: 'crash', target: { kind: 'leader' } }, world())).toEqual({
      ok: true,
      fault: { type: 'crash', node: 'n3' },
    });
    expect(
      resolveLabFault(
        { type: 'restart', target: { kind: 'last-crashed' } },
        world({ lastCrashed: 'n2' }),
      ),
    ).toEqual({ ok: true, fault: { type: 'recover', node: 'n2' } });
    expect(
      resolveLabFault({ type: 'pause', target: { kind: 'node', node: 'n5' } }, world()),
    ).toEqual({
      ok: true,
      fault: { type: 'pause', node: 'n5' },
    });
  });

  it('explains why a target names nobody', () => {
    expect(
      resolveLabFault({ type: 'crash', target: { kind: 'leader' } }, world({ leader: null })),
    ).toEqual({
      ok: false,
      reason: 'crash leader: no leader is known at this moment',
    });
    expect(
      resolveLabFault(
        { type: 'cut', from: { kind: 'leader' }, to: { kind: 'node', node: 'n3' } },
        world(),
      ),
    ).toEqual({
      ok: false,
      reason: 'cut leader -> n3: both are n3',
    });
  });

  it('puts the leader in the largest minority of a majority-minority partition', () => {
    const action: LabFaultAction = {
      type: 'partition',
      shape: 'majority-minority',
      node: { kind: 'leader' },
      groups: null,
    };
    const r = resolveLabFault(action, world());
    expect(r.ok).toBe(true);
    if (!r.ok || r.fault.type !== 'partition') throw new Error('expected a partition');
    const [majority, minority] = r.fault.groups;
    expect(minority).toHaveLength(2);
    expect(minority).toContain('n3');
    expect(majority).toHaveLength(3);
    expect([...(majority ?? []), ...(minority ?? [])].sort()).toEqual(servers);
  });

  it('builds isolate, halves and bridge groups that cover every server', () => {
    const isolate = resolveLabFault(
      { type: 'partition', shape: 'isolate', node: { kind: 'node', node: 'n4' }, groups: null },
      world(),
    );
    expect(isolate).toMatchObject({ ok: true, fault: { groups: [['n4'], expect.any(Array)] } });
    const bridge = resolveLabFault(
      { type: 'partition', shape: 'bridge', node: { kind: 'node', node: 'n3' }, groups: null },
      world(),
    );
    if (!bridge.ok || bridge.fault.type !== 'partition') throw new Error('expected a partition');
    expect(bridge.fault.groups.every((g) => g.includes('n3') && g.length === 3)).toBe(true);
    const halves = resolveLabFault(
      { type: 'partition', shape: 'halves', node: null, groups: null },
      world(),
    );
    if (!halves.ok || halves.fault.type !== 'partition') throw new Error('expected a partition');
    expect(halves.fault.groups.map((g) => g.length)).toEqual([2, 3]);
  });

  it('maps heal kinds onto the fault vocabulary', () => {
    expect(resolveLabFault({ type: 'heal', what: 'network' }, world())).toEqual({
      ok: true,
      fault: { type: 'heal-network' },
    });
    expect(resolveLabFault({ type: 'heal', what: 'links' }, world())).toEqual({
      ok: true,
      fault: { type: 'restore-links' },
    });
    expect(resolveLabFault({ type: 'heal', what: 'all' }, world())).toEqual({
      ok: true,
      fault: { type: 'heal-all' },
    });
  });
});
