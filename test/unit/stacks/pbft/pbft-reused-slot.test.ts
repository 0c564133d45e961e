import { describe, expect, it } from 'vitest';
import { commandDigest } from '../../../../src-node-agent/stacks/pbft/command-digest';
import type { Command, PbftMessage } from '../../../../src-node-agent/stacks/pbft/messages';
import { correctReplicasAgree } from '../../../../src-node-agent/stacks/pbft/invariants';
import { Cluster, put } from './pbft-harness';

const CORRECT = ['n1', 'n3', 'n4'] as const;

for (const auth of ['mac', 'ed25519'] as const)
  describe(`a sequence number reused in a later view, auth = ${auth}`, () => {
    it('a replica votes afresh in the new view: what it said in an older view neither blocks nor replaces its votes', () => {
      // n2 is absent from the cluster: the test plays it, Byzantine, as the primary of view 1.
      const c = new Cluster({ auth }, ['n2']);
      const reqA = put('c1', 1, 'x', 'A');
      const A: Command = { type: 'batch', reqs: [reqA] };
      const C: Command = { type: 'batch', reqs: [put('c2', 1, 'x', 'C')] };
      const dA = commandDigest(A);
      const dC = commandDigest(C);
      const toN2 = (e: { to: string }): boolean => e.to === 'n2';

      // View 0 (primary n1): A is pre-prepared everywhere and prepared at n4 only; the other
      // PREPAREs and every COMMIT are lost.
      c.request('n1', reqA);
      c.inject('n2', 'n4', { t: 'prepare', view: 0, seq: 1, digest: dA });
      c.deliver((e) => toN2(e) || (e.msg.t === 'prepare' && e.to !== 'n4') || e.msg.t === 'commit');

      // View 1, primary n2: its NEW-VIEW picks the VIEW-CHANGEs of n1, n2 and n3, in none of
      // which A is prepared, so sequence number 1 is not re-issued.
      for (const id of CORRECT) c.timer(id, 'view-change');
      c.deliver(toN2);
      // VIEW-CHANGEs as a NEW-VIEW carries them: in signature mode with the sender's signature
      // (the auth vector of a signed message is that one signature).
      const asCarried = (msg: PbftMessage) => {
        const { auth: sigs, t: _t, ...body } = msg as Extract<PbftMessage, { t: 'view-change' }>;
        return auth === 'ed25519' ? { ...body, sig: sigs[0] } : body;
      };
      const vcOf = (id: string) => {
        const e = c.sent.find(
          (x) => x.from === id && x.to === 'n2' && x.msg.t === 'view-change' && x.msg.view === 1,
        );
        if (e === undefined) throw new Error(`${id} sent no VIEW-CHANGE for view 1 to n2`);
        return asCarried(e.msg);
      };
      const { sig: _sig, ...n1Body } = vcOf('n1') as ReturnType<typeof vcOf> & { sig?: string };
      const vc2Body = { ...n1Body, replica: 'n2', checkpointProof: [], prepared: [] };
      const vc2 = asCarried(c.forge('n2', { t: 'view-change', ...vc2Body }));
      for (const id of CORRECT) {
        c.inject('n2', id, {
          t: 'new-view',
          view: 1,
          viewChanges: [vcOf('n1'), vc2, vcOf('n3')],
          prePrepares: [],
        });
      }
      c.deliver(toN2);
      expect(CORRECT.map((id) => c.replica(id).inspect().view)).toEqual([1, 1, 1]);

      // n2 reuses sequence number 1 for C, pre-prepared to n1 and n4 only.
      const before = c.sent.length;
      for (const id of ['n1', 'n4']) {
        c.inject('n2', id, { t: 'pre-prepare', view: 1, seq: 1, digest: dC, cmd: C });
      }
      c.inject('n2', 'n1', { t: 'commit', view: 1, seq: 1, digest: dC });
      c.deliver(toN2);
      // n4 prepared A in view 0, yet it PREPAREs C in view 1: its vote in the old view does
      // not stand in for one in this view.
      expect(
        c.sent
          .slice(before)
          .some(
            (e) =>
              e.from === 'n4' && e.msg.t === 'prepare' && e.msg.view === 1 && e.msg.digest === dC,
          ),
      ).toBe(true);
      for (let i = 0; i < 2; i++) c.timer('n4', 'tick');
      c.deliver(toN2);

      // View 2 (primary n3, correct); n1's VIEW-CHANGE reaches n3 late, n2 sends one too.
      for (const id of CORRECT) c.timer(id, 'view-change');
      c.inject('n2', 'n3', { ...vc2Body, t: 'view-change', view: 2 });
      c.deliver((e) => toN2(e) || (e.msg.t === 'view-change' && e.from === 'n1' && e.to === 'n3'));
      // Without n1's VIEW-CHANGE, n3 cannot decide sequence number 1 yet (only n4 vouches
      // for C, and n2 claims nothing prepared); n1 retransmits it on its next tick.
      expect(c.replica('n3').inspect()['inViewChange']).toBe(true);
      c.timer('n1', 'tick');
      c.deliver(toN2);
      const statuses = new Map(CORRECT.map((id) => [id, c.replica(id).inspect()]));
      // Every correct replica executed C at sequence number 1, the request that committed
      // locally at n1 in view 1, and they agree on everything after it.
      expect(correctReplicasAgree.check(statuses as never)).toBeNull();
      const atOne = c.events
        .filter((e) => e.kind === 'executed' && (e.event as { slot: number }).slot === 1)
        .map((e) => `${e.node}:${(e.event as { digest: string }).digest === dC ? 'C' : 'not C'}`)
        .sort();
      expect(atOne).toEqual(['n1:C', 'n3:C', 'n4:C']);
    });

    it('a backup that prepared a request and then becomes primary never retransmits a PREPARE', () => {
      const c = new Cluster({ auth });
      c.request('n1', put('c1', 1, 'x', 'A'));
      // Every COMMIT is lost: the request is prepared everywhere but never commits in view 0.
      c.deliver((e) => e.msg.t === 'commit');
      for (const id of ['n1', 'n2', 'n3', 'n4']) c.timer(id, 'view-change');
      c.deliver();
      expect(c.replica('n2').inspect()).toMatchObject({ view: 1, inViewChange: false });
      const before = c.sent.length;
      for (let i = 0; i < 3; i++) c.timer('n2', 'tick');
      expect(c.sent.slice(before).filter((e) => e.from === 'n2' && e.msg.t === 'prepare')).toEqual(
        [],
      );
      expect(c.eventsOf('rejected-input')).toEqual([]);
    });
  });
