/**
 * One test per claim of seed 002 (slides 12–19), driving a single replica message by message
 * through a ScriptedContext, in the manner of etcd raft's raft_paper_test.go.
 */
import { describe, expect, it } from 'vitest';
import { serverIds } from '../../../../src-node-agent/core/ids';
import type { KvOp, KvOutput } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { paxosConfigSchema } from '../../../../src-node-agent/stacks/paxos/config';
import type { Command, PaxosMessage } from '../../../../src-node-agent/stacks/paxos/messages';
import { PaxosReplica } from '../../../../src-node-agent/stacks/paxos/replica';
import { ScriptedContext } from '../../../support/scripted-context';

const servers = serverIds(5);
const config = paxosConfigSchema.parse({});

function replica(self: string): { r: PaxosReplica; ctx: ScriptedContext<PaxosMessage, KvOutput> } {
  const ctx = new ScriptedContext<PaxosMessage, KvOutput>(self, servers);
  const r = new PaxosReplica(ctx, config);
  r.init();
  ctx.drain();
  return { r, ctx };
}

const batch = (client: string, seq: number, op: KvOp): Command => ({
  type: 'batch',
  reqs: [{ client, seq, op }],
});
const A = batch('c1', 1, { f: 'put', key: 'x', value: 1 });
const B = batch('c2', 1, { f: 'put', key: 'x', value: 2 });
const C = batch('c3', 1, { f: 'add', key: 'y', delta: 3 });

/** Drive n3 to be the preinstalled leader of view 2 (servers[2 mod 5] = n3). */
function preinstalledLeaderOfView2() {
  const { r, ctx } = replica('n3');
  r.onTimer('election'); // view 1
  r.onTimer('election'); // view 2
  r.onMessage('n4', { t: 'new-leader', view: 2, answer: false });
  r.onMessage('n5', { t: 'new-leader', view: 2, answer: false });
  return { r, ctx };
}

describe('Paxos, seed 002', () => {
  it('slide 18 B1–B2: a server that receives Proposal(v,u,s) in its view sends Accept(v,u,s) to all, after persisting it', () => {
    const { r, ctx } = replica('n2');
    r.onMessage('n1', { t: 'proposal', view: 0, slot: 1, cmd: A, commit: 0 });
    const effects = ctx.drain();
    const persistAt = effects.findIndex((e) => e.kind === 'persist' && e.key === 'acc/1');
    const firstAccept = effects.findIndex((e) => e.kind === 'send' && e.msg.t === 'accept');
    expect(persistAt).toBeGreaterThanOrEqual(0);
    expect(firstAccept).toBeGreaterThan(persistAt);
    const accepts = ctx.sent(effects).filter((s) => s.msg.t === 'accept');
    expect(accepts.map((s) => s.to).sort()).toEqual(['n1', 'n3', 'n4', 'n5']);
  });

  it('slide 18 C1: a server orders (u,s) on the Proposal plus majority-1 Accepts, not before', () => {
    const { r, ctx } = replica('n2');
    r.onMessage('n1', { t: 'proposal', view: 0, slot: 1, cmd: A, commit: 0 });
    expect(ctx.drain().some((e) => e.kind === 'emit' && e.event.kind === 'executed')).toBe(false);
    r.onMessage('n3', { t: 'accept', view: 0, slot: 1 });
    const executed = ctx.drain().filter((e) => e.kind === 'emit' && e.event.kind === 'executed');
    expect(executed).toHaveLength(1);
    expect(r.inspect().executed).toBe(1);
  });

  it('slide 18: a server sends Accept only for the view it is in, never for a lower one', () => {
    const { r, ctx } = replica('n4');
    r.onMessage('n3', { t: 'prepare', view: 2, fromSlot: 1 });
    ctx.drain();
    r.onMessage('n1', { t: 'proposal', view: 0, slot: 1, cmd: A, commit: 0 });
    const sent = ctx.sent(ctx.drain());
    expect(sent.some((s) => s.msg.t === 'accept')).toBe(false);
    expect(sent).toContainEqual({ to: 'n1', msg: { t: 'nack', view: 0, promised: 2 } });
  });

  it('slide 19 A1–A2: when timer T expires, my_view++ and New-Leader(my_view) goes to all', () => {
    const { r, ctx } = replica('n2');
    r.onTimer('election');
    const sent = ctx.sent(ctx.drain());
    expect(sent.filter((s) => s.msg.t === 'new-leader' && s.msg.view === 1)).toHaveLength(4);
    expect(r.inspect().view).toBe(1);
  });

  it('slide 19 B1: a server whose view is working ignores New-Leader for a higher view (a flapping server cannot disrupt)', () => {
    const { r, ctx } = replica('n2');
    r.onMessage('n5', { t: 'new-leader', view: 7, answer: false });
    expect(ctx.sent(ctx.drain())).toEqual([]);
    expect(r.inspect()).toMatchObject({ view: 0, role: 'follower' });
  });

  it('slide 19 C1: on a majority of New-Leader(v) the timeout doubles, and the leader of v collects from a majority', () => {
    const { r, ctx } = preinstalledLeaderOfView2();
    expect(r.inspect()).toMatchObject({
      view: 2,
      phase: 'preinstalled',
      timeout_ms: 2 * config.electionTimeout_ms,
    });
    const prepares = ctx.sent(ctx.drain()).filter((s) => s.msg.t === 'prepare');
    expect(prepares.map((s) => s.to).sort()).toEqual(['n1', 'n2', 'n4', 'n5']);
    expect(ctx.persisted.get('promised')).toBe(2);
  });

  it('slide 19: when the leader of our preinstalled view moves on to a higher view, we follow it (that view cannot complete)', () => {
    const { r, ctx } = replica('n3');
    r.onTimer('election'); // view 1, whose leader is n2
    r.onMessage('n4', { t: 'new-leader', view: 1, answer: false });
    r.onMessage('n5', { t: 'new-leader', view: 1, answer: false });
    expect(r.inspect()).toMatchObject({ view: 1, phase: 'preinstalled' });
    ctx.drain();
    r.onMessage('n5', { t: 'new-leader', view: 2, answer: false }); // not v1's leader: ignored (B1)
    expect(r.inspect().view).toBe(1);
    r.onMessage('n2', { t: 'new-leader', view: 2, answer: false }); // v1's own leader left it
    expect(r.inspect()).toMatchObject({ view: 2, phase: 'electing' });
  });

  it('slide 17: a new leader replays, per slot, the proposal with the greatest view, and fills gaps with no-ops', () => {
    const { r, ctx } = preinstalledLeaderOfView2();
    ctx.drain();
    r.onMessage('n4', {
      t: 'prepare-ok',
      view: 2,
      entries: [{ slot: 1, view: 0, cmd: A }],
      snapshot: null,
    });
    r.onMessage('n5', {
      t: 'prepare-ok',
      view: 2,
      entries: [
        { slot: 1, view: 1, cmd: B },
        { slot: 3, view: 1, cmd: C },
      ],
      snapshot: null,
    });
    const proposals = ctx
      .sent(ctx.drain())
      .filter((s) => s.to === 'n1' && s.msg.t === 'proposal')
      .map((s) => s.msg as Extract<PaxosMessage, { t: 'proposal' }>);
    expect(proposals.map((p) => [p.view, p.slot, p.cmd])).toEqual([
      [2, 1, B],
      [2, 2, { type: 'noop' }],
      [2, 3, C],
    ]);
    expect(r.inspect()).toMatchObject({ role: 'leader', phase: 'installed', view: 2 });
  });

  it('slide 13: the new leader cannot propose until it has heard from a majority', () => {
    const { r, ctx } = preinstalledLeaderOfView2();
    ctx.drain();
    r.onClientRequest({ client: 'c1', seq: 1, op: { f: 'put', key: 'k', value: 1 } });
    r.onMessage('n4', { t: 'prepare-ok', view: 2, entries: [], snapshot: null });
    expect(ctx.sent(ctx.drain()).some((s) => s.msg.t === 'proposal')).toBe(false);
    r.onMessage('n5', { t: 'prepare-ok', view: 2, entries: [], snapshot: null });
    expect(ctx.sent(ctx.drain()).some((s) => s.msg.t === 'proposal')).toBe(true);
  });

  it('slide 9 crash/recovery with stable storage: the promise survives a crash', () => {
    const first = replica('n4');
    first.r.onMessage('n3', { t: 'prepare', view: 2, fromSlot: 1 });
    first.r.onMessage('n3', { t: 'proposal', view: 2, slot: 1, cmd: A, commit: 0 });
    const ctx = new ScriptedContext<PaxosMessage, KvOutput>('n4', servers);
    const recovered = new PaxosReplica(ctx, config);
    recovered.recover(first.ctx.persisted);
    expect(recovered.inspect()).toMatchObject({ promised: 2, view: 2, executed: 0 });
    ctx.drain();
    recovered.onMessage('n1', { t: 'proposal', view: 0, slot: 1, cmd: B, commit: 0 });
    expect(ctx.sent(ctx.drain())).toContainEqual({
      to: 'n1',
      msg: { t: 'nack', view: 0, promised: 2 },
    });
    // And what it accepted before the crash is reported to the next leader.
    recovered.onMessage('n5', { t: 'prepare', view: 6, fromSlot: 1 }); // n5 does not lead view 6: ignored
    recovered.onMessage('n3', { t: 'prepare', view: 7, fromSlot: 1 }); // leader of 7 is n3
    const ok = ctx.sent(ctx.drain()).find((s) => s.msg.t === 'prepare-ok');
    expect(ok?.msg).toMatchObject({
      t: 'prepare-ok',
      view: 7,
      entries: [{ slot: 1, view: 2, cmd: A }],
    });
  });

  it('seed 004 at-most-once: a retried request is proposed once and answered from the reply cache', () => {
    const { r, ctx } = replica('n1');
    const req = { client: 'c1', seq: 1, op: { f: 'add', key: 'n', delta: 5 } as KvOp };
    r.onClientRequest(req);
    r.onClientRequest(req); // retry before it executed
    const proposals = ctx.sent(ctx.drain()).filter((s) => s.msg.t === 'proposal');
    expect(proposals).toHaveLength(4); // one slot, to 4 followers
    r.onMessage('n2', { t: 'accept', view: 0, slot: 1 });
    r.onMessage('n3', { t: 'accept', view: 0, slot: 1 });
    const replies = ctx.drain().filter((e) => e.kind === 'reply');
    expect(replies).toHaveLength(1);
    r.onClientRequest(req); // retry after it executed
    const again = ctx.drain();
    expect(again.filter((e) => e.kind === 'send' && e.msg.t === 'proposal')).toHaveLength(0);
    expect(again.filter((e) => e.kind === 'reply')).toEqual([
      { kind: 'reply', reply: { client: 'c1', seq: 1, type: 'ok', output: null } },
    ]);
  });

  it('a follower redirects clients to the leader it follows', () => {
    const { r, ctx } = replica('n3');
    r.onClientRequest({ client: 'c9', seq: 4, op: { f: 'get', key: 'k' } });
    expect(ctx.drain()).toContainEqual({
      kind: 'reply',
      reply: { client: 'c9', seq: 4, type: 'redirect', leaderHint: 'n1' },
    });
  });
});
