import { describe, expect, it } from 'vitest';
import type { ClientContext, ClientReply } from '../../../../src-node-agent/core/protocol';
import type { KvOp, KvOutput } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { pbftClusterSizeError } from '../../../../src-node-agent/stacks/pbft';
import { PbftClient } from '../../../../src-node-agent/stacks/pbft/client';
import { drawByzantine } from '../../../../src-node-agent/stacks/pbft/byzantine-draw';
import { commandDigest } from '../../../../src-node-agent/stacks/pbft/command-digest';
import { pbftConfigSchema } from '../../../../src-node-agent/stacks/pbft/config';
import type { Command, PbftMessage } from '../../../../src-node-agent/stacks/pbft/messages';
import type { KvOutput as Out } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { PbftReplica } from '../../../../src-node-agent/stacks/pbft/replica';
import { ScriptedContext } from '../../../support/scripted-context';
import { Cluster, put, SERVERS } from './pbft-harness';

/** Claims of seed 002 slides 21–29 and Castro and Liskov '99, one test each. */

/** The protocol tests hold with MAC authenticators and with Ed25519 signatures alike. */
const AUTH_MODES = ['mac', 'ed25519'] as const;

const batch = (...reqs: ReturnType<typeof put>[]): Command => ({ type: 'batch', reqs });
/** Distinct COMMITs a replica broadcast (one per peer is sent; count each once). */
const commitsSent = (c: Cluster, from: string) =>
  c.sent
    .filter(
      (e) => e.from === from && e.msg.t === 'commit' && e.to === (from === 'n4' ? 'n3' : 'n4'),
    )
    .map((e) => e.msg as Extract<PbftMessage, { t: 'commit' }>);
const preparesSent = (c: Cluster, from: string) =>
  c.sent.filter((e) => e.from === from && e.msg.t === 'prepare' && e.to === 'n3');

for (const auth of AUTH_MODES)
  describe(`PBFT normal case (slide 27), auth = ${auth}`, () => {
    it('n must be 3f+1: 4, 7, 10 are accepted, 3, 5, 6 are refused', () => {
      for (const n of [4, 7, 10]) expect(pbftClusterSizeError(n)).toBeNull();
      for (const n of [1, 3, 5, 6]) expect(pbftClusterSizeError(n)).toMatch(/3f\+1/);
    });

    it('the prepare certificate prevents two digests being prepared at one (v, n) among correct replicas', () => {
      // A Byzantine primary n1 (played by the test) sends every possible split of two different
      // requests for (0, 1) to the three correct backups (slide 22). Whatever the split, at most
      // one digest gathers pre-prepare + 2f matching PREPAREs at correct replicas: a correct
      // replica sends COMMIT only once prepared.
      const a = batch(put('c1', 1, 'x', 'A'));
      const b = batch(put('c2', 1, 'x', 'B'));
      const backups = ['n2', 'n3', 'n4'];
      let splits = 0;
      for (let mask = 0; mask < 8; mask++) {
        const c = new Cluster({ auth }, ['n1']);
        backups.forEach((to, i) => {
          const cmd = (mask >> i) & 1 ? a : b;
          c.inject('n1', to, {
            t: 'pre-prepare',
            view: 0,
            seq: 1,
            digest: commandDigest(cmd),
            cmd,
          });
        });
        c.deliver();
        const prepared = new Set<string>();
        for (const r of backups) for (const m of commitsSent(c, r)) prepared.add(m.digest);
        expect(prepared.size).toBeLessThanOrEqual(1);
        // A 2–1 or 3–0 split prepares the majority digest: two backups plus the pre-prepare.
        expect(prepared.size).toBe(1);
        splits++;
      }
      expect(splits).toBe(8);
    });

    it('a backup prepares only with the pre-prepare and 2f PREPAREs from distinct backups', () => {
      const c = new Cluster({ auth }, ['n1']);
      const cmd = batch(put('c1', 1, 'x', 'A'));
      const digest = commandDigest(cmd);
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 1, digest, cmd });
      c.inbox.length = 0;
      // The same backup twice is one vote; with its own PREPARE that is 2f = 2 only once n3 counts.
      c.inject('n3', 'n2', { t: 'prepare', view: 0, seq: 1, digest: 'ffffffffffffff' });
      expect(commitsSent(c, 'n2')).toHaveLength(0);
      c.inject('n3', 'n2', { t: 'prepare', view: 0, seq: 1, digest });
      expect(commitsSent(c, 'n2')).toHaveLength(1);
    });

    it('a PREPARE from the primary does not count towards the certificate', () => {
      const c = new Cluster({ auth }, ['n1']);
      const cmd = batch(put('c1', 1, 'x', 'A'));
      const digest = commandDigest(cmd);
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 1, digest, cmd });
      c.inject('n1', 'n2', { t: 'prepare', view: 0, seq: 1, digest });
      expect(commitsSent(c, 'n2')).toHaveLength(0);
      expect(c.eventsOf('rejected-input', 'n2')).toHaveLength(1);
    });

    it('a replica rejects a pre-prepare outside its watermarks', () => {
      const c = new Cluster({ auth, logWindow: 8, checkpointEvery: 4 }, ['n1']);
      const cmd = batch(put('c1', 1, 'x', 'A'));
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 9, digest: commandDigest(cmd), cmd });
      expect(preparesSent(c, 'n2')).toHaveLength(0);
      const rejected = c.eventsOf('rejected-input', 'n2');
      expect(rejected).toHaveLength(1);
      expect(JSON.stringify(rejected[0])).toMatch(/outside watermarks \(0, 8\]/);
      // h+L itself is inside.
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 8, digest: commandDigest(cmd), cmd });
      expect(preparesSent(c, 'n2')).toHaveLength(1);
    });

    it('a second pre-prepare for the same (v, n) with a different digest is rejected', () => {
      const c = new Cluster({ auth }, ['n1']);
      const a = batch(put('c1', 1, 'x', 'A'));
      const b = batch(put('c1', 1, 'x', 'B'));
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 1, digest: commandDigest(a), cmd: a });
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 1, digest: commandDigest(b), cmd: b });
      const prepares = c.sent.filter((e) => e.from === 'n2' && e.msg.t === 'prepare');
      expect(new Set(prepares.map((e) => (e.msg as { digest: string }).digest))).toEqual(
        new Set([commandDigest(a)]),
      );
      expect(JSON.stringify(c.eventsOf('rejected-input', 'n2'))).toMatch(/different digest/);
    });

    it('a bad MAC is dropped and counted', () => {
      const c = new Cluster({ auth }, ['n1']);
      const cmd = batch(put('c1', 1, 'x', 'A'));
      // A message signed by n3 but claiming to come from n1 is also a bad MAC (or signature).
      const good = c.forge('n1', {
        t: 'pre-prepare',
        view: 0,
        seq: 1,
        digest: commandDigest(cmd),
        cmd,
      });
      const bad: PbftMessage = {
        ...good,
        auth: good.auth.map((m) =>
          m === '' ? '' : `0${m.slice(1)}` === m ? `1${m.slice(1)}` : `0${m.slice(1)}`,
        ),
      };
      c.replica('n2').onMessage('n1', bad);
      // A message signed by n3 but claiming to come from n1 is also a bad MAC.
      c.replica('n2').onMessage(
        'n1',
        c.forge('n3', { t: 'pre-prepare', view: 0, seq: 1, digest: commandDigest(cmd), cmd }),
      );
      c.collect();
      expect(c.sent.filter((e) => e.from === 'n2')).toHaveLength(0);
      expect(c.replica('n2').inspect()['rejectedMacs']).toBe(2);
      expect(c.eventsOf('rejected-input', 'n2').map((e) => JSON.stringify(e.event))).toEqual([
        expect.stringMatching(/bad (MAC|signature) on pre-prepare/),
        expect.stringMatching(/bad (MAC|signature) on pre-prepare/),
      ]);
      c.replica('n2').onMessage('n1', good);
      c.collect();
      expect(preparesSent(c, 'n2')).toHaveLength(1);
    });

    it('a replica that crashes and recovers keeps what it accepted: no PREPARE for a second digest at (v, n)', () => {
      const c = new Cluster({ auth }, ['n1']);
      const a = batch(put('c1', 1, 'x', 'A'));
      const b = batch(put('c1', 1, 'x', 'B'));
      c.inject('n1', 'n2', { t: 'pre-prepare', view: 0, seq: 1, digest: commandDigest(a), cmd: a });
      const ctx = new ScriptedContext<PbftMessage, Out>('n2', SERVERS);
      const restarted = new PbftReplica(ctx, c.config);
      restarted.recover(new Map(c.context('n2').persisted));
      restarted.onMessage(
        'n1',
        c.forge('n1', { t: 'pre-prepare', view: 0, seq: 1, digest: commandDigest(b), cmd: b }),
      );
      expect(ctx.sent().filter((e) => e.msg.t === 'prepare')).toHaveLength(0);
      expect(JSON.stringify(ctx.effects)).toMatch(/different digest/);
    });

    it('committed-local needs 2f+1 matching COMMITs, and execution follows sequence order', () => {
      const c = new Cluster({ auth });
      c.request('n1', put('c1', 1, 'x', 'A'));
      c.request('n1', put('c2', 1, 'y', 'B'));
      // Lose everything for sequence number 1 at n4 except the pre-prepare: n4 can prepare and
      // commit 2 but must not execute it before 1.
      c.deliver(
        (e) => e.to === 'n4' && e.msg.t !== 'pre-prepare' && 'seq' in e.msg && e.msg.seq === 1,
      );
      expect(c.replica('n2').inspect().executed).toBe(2);
      expect(c.replica('n4').inspect().executed).toBe(0);
      expect(c.eventsOf('committed', 'n4').map((e) => (e.event as { slot: number }).slot)).toEqual([
        2,
      ]);
    });
  });

for (const auth of AUTH_MODES)
  describe(`PBFT view change (slides 27–28), auth = ${auth}`, () => {
    it('NEW-VIEW carries every request that committed locally at any correct replica', () => {
      const c = new Cluster({ auth });
      c.request('n1', put('c1', 1, 'x', 'A'));
      c.request('n1', put('c2', 1, 'y', 'B'));
      c.request('n1', put('c3', 1, 'z', 'C'));
      // n4 never hears a COMMIT: it prepares but does not commit; n2 and n3 commit and execute.
      c.deliver((e) => e.to === 'n4' && e.msg.t === 'commit');
      const committed = new Map<number, string>();
      for (const e of c.eventsOf('executed')) {
        const ev = e.event as { slot: number; digest: string };
        if (e.node !== 'n1') committed.set(ev.slot, ev.digest);
      }
      expect(Array.from(committed.keys()).sort()).toEqual([1, 2, 3]);
      expect(c.replica('n4').inspect().executed).toBe(0);
      // Now the primary goes quiet; a new request is pending at the backups and times out.
      c.request('n2', put('c4', 1, 'w', 'D'));
      c.request('n3', put('c4', 1, 'w', 'D'));
      c.request('n4', put('c4', 1, 'w', 'D'));
      for (const id of ['n2', 'n3', 'n4']) c.timer(id, 'view-change');
      c.deliver((e) => e.from === 'n1' || e.to === 'n1');
      const newView = c.sent.find((e) => e.msg.t === 'new-view');
      expect(newView?.from).toBe('n2');
      const nv = newView?.msg as Extract<PbftMessage, { t: 'new-view' }>;
      expect(nv.view).toBe(1);
      expect(nv.viewChanges).toHaveLength(3);
      const reissued = new Map(nv.prePrepares.map((p) => [p.seq, p.digest]));
      for (const [slot, digest] of committed) expect(reissued.get(slot)).toBe(digest);
      // Every correct replica entered view 1 and n4 executed the same requests at the same slots.
      for (const id of ['n2', 'n3', 'n4']) expect(c.replica(id).inspect().view).toBe(1);
      const n4 = new Map(
        c.eventsOf('executed', 'n4').map((e) => {
          const ev = e.event as { slot: number; digest: string };
          return [ev.slot, ev.digest] as const;
        }),
      );
      for (const [slot, digest] of committed) expect(n4.get(slot)).toBe(digest);
      // The new primary ordered the pending request too.
      expect(c.replica('n2').inspect().executed).toBe(4);
    });

    it('a backup refuses a NEW-VIEW whose pre-prepares are not the ones its VIEW-CHANGEs imply', () => {
      const c = new Cluster({ auth }, ['n2']);
      c.request('n1', put('c1', 1, 'x', 'A'));
      c.deliver((e) => e.to === 'n2');
      // n2 (played by the test) is the primary of view 1 and "forgets" the committed request.
      c.request('n3', put('c9', 1, 'q', 'Z'));
      c.timer('n3', 'view-change');
      c.request('n4', put('c9', 1, 'q', 'Z'));
      c.timer('n4', 'view-change');
      c.request('n1', put('c9', 1, 'q', 'Z'));
      c.timer('n1', 'view-change');
      const bodies = c.sent
        .filter((e) => e.msg.t === 'view-change' && e.msg.view === 1)
        .map((e) => {
          const { t: _t, auth: sigs, ...vc } = e.msg as Extract<PbftMessage, { t: 'view-change' }>;
          // In signature mode a NEW-VIEW carries each VIEW-CHANGE with its sender's signature.
          return auth === 'ed25519' ? { ...vc, sig: sigs[0] } : vc;
        });
      const unique = Array.from(new Map(bodies.map((b) => [b.replica, b])).values());
      expect(unique.length).toBeGreaterThanOrEqual(3);
      const nullCmd: Command = { type: 'null' };
      c.inbox.length = 0;
      c.inject('n2', 'n3', {
        t: 'new-view',
        view: 1,
        viewChanges: unique.slice(0, 3),
        prePrepares: [{ seq: 1, digest: commandDigest(nullCmd), cmd: nullCmd }],
      });
      expect(c.replica('n3').inspect()['inViewChange']).toBe(true);
      expect(JSON.stringify(c.eventsOf('rejected-input', 'n3'))).toMatch(/differ from the ones/);
    });

    it('view-change timeouts double on consecutive view changes, starting once 2f+1 asked for the view', () => {
      const c = new Cluster({ auth, viewChangeTimeout_ms: 100 });
      for (const id of ['n2', 'n3', 'n4']) c.request(id, put('c1', 1, 'x', 'A'));
      // Alone, a replica that asks for a new view does not start that view's timer.
      c.timer('n2', 'view-change');
      expect(c.context('n2').timers.has('view-change')).toBe(false);
      const timeouts: number[][] = [];
      for (let round = 0; round < 4; round++) {
        for (const id of ['n2', 'n3', 'n4']) {
          if (round > 0 || id !== 'n2') c.timer(id, 'view-change');
        }
        // n1 is gone and every NEW-VIEW is lost: the view change never completes.
        c.deliver((e) => e.from === 'n1' || e.to === 'n1' || e.msg.t === 'new-view');
        const waiting = ['n2', 'n3', 'n4'].filter((id) => c.replica(id).inspect()['inViewChange']);
        timeouts.push(waiting.map((id) => c.context(id).timers.get('view-change') ?? -1));
      }
      // View 1 gets T, view 2 gets 2T, … (paper section 4.5.2). The new primary is not waiting,
      // except in view 4, whose primary is the lost n1.
      expect(timeouts).toEqual([
        [100, 100],
        [200, 200],
        [400, 400],
        [800, 800, 800],
      ]);
      expect(c.replica('n3').inspect().view).toBe(4);
    });

    it('a replica that already asked for a later view counts towards the 2f+1 that start the view-change timer', () => {
      // Regression (npm run sim -- --stack pbft --nodes 4 --byzantine random --seed 532, n4
      // silent): n1's VIEW-CHANGE for view 1 is lost, n1 times out into view 2; n2 (primary
      // of view 1) and n3 hold only two VIEW-CHANGEs for view 1. n1's request for view 2 must
      // start their timers, or all three wait forever.
      const c = new Cluster({ auth }, ['n4']);
      for (const id of ['n1', 'n2', 'n3']) c.request(id, put('c1', 1, 'x', 'A'));
      c.inbox.length = 0; // the primary n1 is cut off before it orders anything
      for (const id of ['n1', 'n2', 'n3']) c.timer(id, 'view-change');
      c.deliver((e) => e.msg.t !== 'view-change' || (e.from === 'n1' && e.msg.view === 1));
      expect(c.context('n1').timers.has('view-change')).toBe(true);
      for (const id of ['n2', 'n3']) {
        expect(c.replica(id).inspect()).toMatchObject({ view: 1, inViewChange: true });
        expect(c.context(id).timers.has('view-change'), `${id} timer`).toBe(false);
      }
      c.timer('n1', 'view-change'); // n1 gives up on view 1
      c.deliver();
      for (const id of ['n2', 'n3']) {
        expect(c.context(id).timers.has('view-change'), `${id} timer`).toBe(true);
      }
      for (const id of ['n2', 'n3']) c.timer(id, 'view-change');
      c.deliver();
      for (const id of ['n1', 'n2', 'n3']) {
        expect(c.replica(id).inspect()).toMatchObject({ view: 2, inViewChange: false });
      }
      expect(c.replica('n3').inspect().executed).toBe(1);
    });
  });

describe('PBFT client (paper section 4.1)', () => {
  function client(): { c: PbftClient; done: KvOutput[] } {
    const done: KvOutput[] = [];
    const ctx: ClientContext<KvOp, KvOutput> = {
      self: 'c1',
      servers: SERVERS,
      send: () => undefined,
      setTimer: () => undefined,
      cancelTimer: () => undefined,
      complete: (o) => done.push(o),
      now: () => 0,
      randomInt: () => 0,
    };
    return { c: new PbftClient(ctx, pbftConfigSchema.parse({})), done };
  }
  const ok = (output: KvOutput): ClientReply<KvOutput> => ({
    client: 'c1',
    seq: 1,
    type: 'ok',
    output,
  });

  it('the client accepts only f+1 matching replies: a lying replica alone cannot fool it', () => {
    const { c, done } = client();
    c.invoke({ f: 'get', key: 'x' });
    c.onReply('n2', ok('lie'));
    c.onReply('n2', ok('lie')); // the same replica twice is one reply
    expect(done).toEqual([]);
    c.onReply('n3', ok('truth'));
    expect(done).toEqual([]);
    c.onReply('n4', ok('truth'));
    expect(done).toEqual(['truth']);
  });
});

describe('the Byzantine draw of npm run sim --byzantine random', () => {
  it('draws f = (n-1)/3 distinct replicas: one at n = 4, two at n = 7', () => {
    let state = 7;
    const randomInt = (bound: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % bound;
    };
    for (let i = 0; i < 50; i++) {
      expect(Object.keys(drawByzantine(['n1', 'n2', 'n3', 'n4'], randomInt))).toHaveLength(1);
      expect(
        Object.keys(drawByzantine(['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'], randomInt)),
      ).toHaveLength(2);
    }
  });
});
