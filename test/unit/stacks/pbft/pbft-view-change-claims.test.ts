import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../../src-node-agent/core/hash';
import { commandDigest } from '../../../../src-node-agent/stacks/pbft/command-digest';
import type {
  Command,
  PbftBody,
  PbftMessage,
} from '../../../../src-node-agent/stacks/pbft/messages';
import { decideNewView } from '../../../../src-node-agent/stacks/pbft/new-view';
import { Cluster, put } from './pbft-harness';

/**
 * A VIEW-CHANGE is one replica's claims about itself. The new view is decided only on what f+1
 * or 2f+1 VIEW-CHANGEs agree on (TOCS 2002, section 4.5), so one faulty replica cannot bring in
 * a checkpoint nobody correct has, nor a request no correct replica pre-prepared, however
 * consistent its lies.
 */
const CORRECT = ['n2', 'n3', 'n4'] as const;

type Machine = { get(key: string): unknown; hasExecuted(client: string, seq: number): boolean };
const machineOf = (c: Cluster, id: string): Machine =>
  (c.replica(id) as unknown as { s: { machine: Machine } }).s.machine;
const stableDigestOf = (c: Cluster, id: string): string =>
  (c.replica(id) as unknown as { s: { stableDigest: string } }).s.stableDigest;

/** n1 (absent: the test plays it, Byzantine) sends its VIEW-CHANGE for view 1 first. */
function viewChangeToOne(c: Cluster, fromN1: PbftBody): void {
  for (const id of CORRECT) c.request(id, put('c1', 1, 'x', 'honest'));
  c.inbox.length = 0;
  for (const id of CORRECT) c.inject('n1', id, fromN1);
  for (const id of CORRECT) c.timer(id, 'view-change');
  c.deliver((e) => e.to === 'n1');
}

for (const auth of ['mac', 'ed25519'] as const)
  describe(`VIEW-CHANGE claims of one faulty replica, auth = ${auth}`, () => {
    it('a stable checkpoint only the faulty replica claims is not adopted, nor its state', () => {
      const c = new Cluster({ auth }, ['n1']);
      const forged = { kv: [['x', 'FORGED']] as [string, string][], clients: [], chain: 42 };
      const digest = digestOf(forged);
      viewChangeToOne(c, {
        t: 'view-change',
        view: 1,
        replica: 'n1',
        stable: 64,
        stableDigest: digest,
        checkpointProof: ['n1', 'n2', 'n3'],
        checkpoints: [{ seq: 64, digest }],
        prepared: [],
        prePrepared: [],
      });
      // And it answers any state request with the forged state.
      for (const id of CORRECT) c.inject('n1', id, { t: 'state', seq: 64, state: forged });
      c.deliver((e) => e.to === 'n1');
      for (const id of CORRECT) {
        const st = c.replica(id).inspect();
        expect(st, id).toMatchObject({ view: 1, inViewChange: false, lowWatermark: 0 });
        expect(st.executed, id).toBe(1);
        expect(machineOf(c, id).get('x'), id).toBe('honest');
      }
    });

    it('a prepare certificate only the faulty replica claims does not put its made-up request in the new view', () => {
      const c = new Cluster({ auth }, ['n1']);
      const evil: Command = {
        type: 'batch',
        reqs: [
          {
            client: 'victim',
            seq: 1,
            op: { f: 'put', key: 'x', value: 'EVIL' },
            auth: ['00', '00', '00', '00'],
          } as never,
        ],
      };
      const digest = commandDigest(evil);
      viewChangeToOne(c, {
        t: 'view-change',
        view: 1,
        replica: 'n1',
        stable: 0,
        stableDigest: stableDigestOf(c, 'n2'),
        checkpointProof: [],
        checkpoints: [{ seq: 0, digest: stableDigestOf(c, 'n2') }],
        prepared: [{ view: 0, seq: 1, digest, cmd: evil, prepares: ['n3', 'n4'] }],
        prePrepared: [{ seq: 1, digest, view: 0 }],
      });
      for (const id of CORRECT) {
        expect(c.replica(id).inspect(), id).toMatchObject({ view: 1, inViewChange: false });
        expect(machineOf(c, id).hasExecuted('victim', 1), id).toBe(false);
        expect(machineOf(c, id).get('x'), id).toBe('honest');
      }
      const executedEvil = c.events.filter(
        (e) => e.kind === 'executed' && (e.event as { digest: string }).digest === digest,
      );
      expect(executedEvil).toEqual([]);
    });
  });

describe('the new-view decision (TOCS 2002, section 4.5)', () => {
  const base = {
    view: 1,
    stable: 0,
    stableDigest: 'd0',
    checkpointProof: [],
    checkpoints: [{ seq: 0, digest: 'd0' }],
  };
  const req: Command = { type: 'batch', reqs: [put('c1', 1, 'x', 'A')] };
  const d = commandDigest(req);
  const cert = { view: 0, seq: 1, digest: d, cmd: req, prepares: ['n2', 'n3'] };

  it('keeps a request prepared at one correct replica when f+1 pre-prepared it, and waits while it cannot tell', () => {
    const withCert = { ...base, prepared: [cert], prePrepared: [{ seq: 1, digest: d, view: 0 }] };
    const prePreparedOnly = {
      ...base,
      prepared: [],
      prePrepared: [{ seq: 1, digest: d, view: 0 }],
    };
    const nothing = { ...base, prepared: [], prePrepared: [] };
    const decided = decideNewView(
      [
        { ...withCert, replica: 'n1' },
        { ...prePreparedOnly, replica: 'n2' },
        { ...nothing, replica: 'n3' },
      ],
      1,
      64,
    );
    expect(decided?.prePrepares).toEqual([{ seq: 1, digest: d, cmd: req }]);
    // One pre-prepared it and nobody else vouches: neither the request nor the null request
    // can be chosen from these three (two say nothing at 1, one claims a certificate).
    expect(
      decideNewView(
        [
          { ...withCert, replica: 'n1' },
          { ...nothing, replica: 'n2' },
          { ...nothing, replica: 'n3' },
        ],
        1,
        64,
      ),
    ).toBeNull();
  });

  it('picks the highest checkpoint f+1 hold and 2f+1 are not past, with its holders', () => {
    const at16 = [
      { seq: 0, digest: 'd0' },
      { seq: 16, digest: 'd16' },
    ];
    const decided = decideNewView(
      [
        { ...base, replica: 'n1', checkpoints: at16, prepared: [], prePrepared: [] },
        { ...base, replica: 'n2', checkpoints: at16, prepared: [], prePrepared: [] },
        { ...base, replica: 'n3', prepared: [], prePrepared: [] },
      ],
      1,
      64,
    );
    expect(decided?.checkpoint).toEqual({ seq: 16, digest: 'd16', holders: ['n1', 'n2'] });
    expect(decided?.prePrepares).toEqual([]);
  });
});

describe('a faulty new primary and the VIEW-CHANGEs it carries, auth = mac', () => {
  it("is refused when it rewrites a correct replica's VIEW-CHANGE that the backup received itself", () => {
    // n2 is absent: the test plays it, Byzantine, as the primary of view 1.
    const c = new Cluster({ auth: 'mac' }, ['n2']);
    c.request('n1', put('c1', 1, 'x', 'A'));
    // A commits at n1 only: the COMMITs to n3 and n4 are lost.
    c.deliver((e) => e.to === 'n2' || (e.msg.t === 'commit' && e.to !== 'n1'));
    expect(machineOf(c, 'n1').get('x')).toBe('A');
    for (const id of ['n1', 'n3', 'n4']) c.timer(id, 'view-change');
    c.deliver((e) => e.to === 'n2');
    // n2 leaves A out: it rewrites every VIEW-CHANGE as if nothing was prepared.
    const rewritten = ['n1', 'n3', 'n4'].map((id) => {
      const e = c.sent.find(
        (x) => x.from === id && x.to === 'n2' && x.msg.t === 'view-change' && x.msg.view === 1,
      );
      if (e === undefined) throw new Error(`${id} sent no VIEW-CHANGE to n2`);
      const { auth: _auth, t: _t, ...body } = e.msg as Extract<PbftMessage, { t: 'view-change' }>;
      return { ...body, prepared: [], prePrepared: [] };
    });
    const forged = decideNewView(rewritten, 1, 64);
    expect(forged?.prePrepares).toEqual([]);
    for (const id of ['n3', 'n4']) {
      c.inject('n2', id, {
        t: 'new-view',
        view: 1,
        viewChanges: rewritten,
        prePrepares: forged?.prePrepares ?? [],
      });
      expect(c.replica(id).inspect(), id).toMatchObject({ inViewChange: true });
      expect(JSON.stringify(c.eventsOf('rejected-input', id))).toMatch(
        /VIEW-CHANGE differs from the one n\d sent this replica/,
      );
    }
  });
});
