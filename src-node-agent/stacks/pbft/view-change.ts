import type { NodeId } from '../../core/ids';
import type {
  CheckpointClaim,
  PbftBody,
  PrePrepareEntry,
  PrePreparedClaim,
  PreparedProof,
  SignedViewChange,
  ViewChangeBody,
} from './messages';
import { decideNewView, sameNewView, viewChangeProblem, type NewViewDecision } from './new-view';
import type { ReplicaParts } from './replica-parts';
import { canonicalJson } from './authenticator';
import { requestKey, type ReplicaState } from './replica-state';

/**
 * View change (slide 28; paper, section 4.4): VIEW-CHANGE with the sender's checkpoints,
 * prepare certificates and pre-prepared requests; the new primary, once the VIEW-CHANGEs it
 * holds (at least 2f+1) decide the new view (new-view.ts), sends NEW-VIEW with them and the
 * re-issued pre-prepares; every backup recomputes those and checks them before entering.
 */
export class ViewChanges {
  constructor(
    private readonly s: ReplicaState,
    private readonly p: ReplicaParts,
  ) {}

  start(view: number, reason: string): void {
    const s = this.s;
    if (view <= s.view && s.inViewChange) return;
    s.view = view;
    s.inViewChange = true;
    s.persistView();
    s.queue.length = 0;
    s.queued.clear();
    const prepared: PreparedProof[] = [];
    const prePrepared: PrePreparedClaim[] = [];
    const top = s.h + s.config.logWindow;
    for (const [seq, slot] of s.slots) {
      if (seq <= s.h || seq > top) continue;
      if (slot.prepared !== null) prepared.push(slot.prepared);
      for (const [digest, v] of slot.prePrepared) prePrepared.push({ seq, digest, view: v });
    }
    prepared.sort((a, b) => a.seq - b.seq);
    prePrepared.sort((a, b) => a.seq - b.seq || (a.digest < b.digest ? -1 : 1));
    const checkpoints: CheckpointClaim[] = [{ seq: s.h, digest: s.stableDigest }];
    for (const [seq, own] of s.ownCheckpoints) {
      if (seq > s.h && seq <= top) checkpoints.push({ seq, digest: own.digest });
    }
    checkpoints.sort((a, b) => a.seq - b.seq);
    const vc: ViewChangeBody = {
      view,
      replica: s.ctx.self,
      stable: s.h,
      stableDigest: s.stableDigest,
      checkpointProof: s.stableProof,
      checkpoints,
      prepared,
      prePrepared,
    };
    s.ownViewChange = vc;
    this.viewChangesFor(view).set(s.ctx.self, this.withSignature(vc, null));
    s.ctx.emit({ kind: 'view-change', view, reason });
    s.broadcast({ t: 'view-change', ...vc });
    this.p.timer.disarm();
    this.p.timer.armOnQuorum();
    this.checkNewView();
  }

  /**
   * With signatures a VIEW-CHANGE is evidence a third replica can check, so the NEW-VIEW that
   * carries it keeps its sender's signature (`auth` of the message it came in, or our own).
   * MACs prove nothing to a third party: then it carries none (see new-view.ts).
   */
  private withSignature(vc: ViewChangeBody, auth: readonly string[] | null): SignedViewChange {
    const s = this.s;
    if (!s.auth.transferable) return vc;
    const sig = (auth ?? s.auth.sign({ t: 'view-change', ...vc }))[0] ?? '';
    return { ...vc, sig };
  }

  private viewChangesFor(view: number): Map<NodeId, SignedViewChange> {
    let m = this.s.viewChanges.get(view);
    if (m === undefined) {
      m = new Map();
      this.s.viewChanges.set(view, m);
    }
    return m;
  }

  onViewChange(from: NodeId, vc: ViewChangeBody, auth: readonly string[]): void {
    const s = this.s;
    if (vc.replica !== from) return s.reject(from, 'VIEW-CHANGE names another replica');
    // Help a replica left behind (it retransmits its VIEW-CHANGE every tick): our stable
    // checkpoint lets it fetch the state once f+1 vouch for it, and the primary of a later view
    // re-sends that view's NEW-VIEW so it can join it instead of waiting for the next one.
    if (vc.stable < s.h) {
      const own = s.ownCheckpoints.get(s.h);
      if (own !== undefined) s.send(from, { t: 'checkpoint', seq: s.h, digest: own.digest });
    }
    if (vc.view < s.view) {
      const nv = s.lastNewView;
      if (!s.inViewChange && nv !== null && nv.t === 'new-view' && nv.view === s.view) {
        s.send(from, nv);
      }
      return;
    }
    const problem = viewChangeProblem(vc, s.f, s.config.logWindow);
    if (problem !== null) return s.reject(from, `VIEW-CHANGE: ${problem}`);
    if (vc.view === s.view && !s.inViewChange) {
      // Already in the view: the sender missed the NEW-VIEW.
      if (s.lastNewView !== null && s.isPrimary()) s.send(from, s.lastNewView);
      return;
    }
    this.viewChangesFor(vc.view).set(from, this.withSignature(vc, auth));
    if (vc.view >= s.view) this.p.timer.armOnQuorum();
    if (vc.view > s.view) {
      // f+1 replicas want a higher view: at least one correct one does, so join the lowest.
      const latest = new Map<NodeId, number>();
      for (const [v, m] of s.viewChanges) {
        if (v <= s.view) continue;
        for (const node of m.keys()) latest.set(node, Math.max(latest.get(node) ?? 0, v));
      }
      const views = Array.from(latest.values()).sort((a, b) => b - a);
      if (views.length >= s.f + 1) {
        this.start(views[s.f] as number, `${s.f + 1} replicas moved past view ${s.view}`);
      }
      return;
    }
    this.checkNewView();
  }

  /** The new primary: with 2f+1 VIEW-CHANGEs for its view, compute and send NEW-VIEW. */
  checkNewView(): void {
    const s = this.s;
    if (!s.inViewChange || !s.isPrimary()) return;
    const vcs = s.viewChanges.get(s.view);
    if (vcs === undefined || vcs.size < 2 * s.f + 1) return;
    if (s.byz.acts('stall', `primary ${s.ctx.self} withholds NEW-VIEW ${s.view}`)) return;
    // Every VIEW-CHANGE at hand: with only 2f+1 a faulty replica's claims can leave a sequence
    // number undecided, and then the primary waits for the others.
    const chosen = Array.from(vcs.values()).sort((a, b) => (a.replica < b.replica ? -1 : 1));
    const decision = decideNewView(chosen, s.f, s.config.logWindow);
    if (decision === null) return;
    const nv: PbftBody = {
      t: 'new-view',
      view: s.view,
      viewChanges: chosen,
      prePrepares: decision.prePrepares,
    };
    s.lastNewView = nv;
    s.broadcast(nv);
    this.enterView(s.view, decision);
  }

  onNewView(
    from: NodeId,
    view: number,
    viewChanges: readonly SignedViewChange[],
    prePrepares: readonly PrePrepareEntry[],
  ): void {
    const s = this.s;
    if (view < s.view || (view === s.view && !s.inViewChange)) return;
    if (from !== s.primaryOf(view)) return s.reject(from, `NEW-VIEW ${view} not from its primary`);
    const senders = new Set(viewChanges.map((vc) => vc.replica));
    if (senders.size !== viewChanges.length || senders.size < 2 * s.f + 1) {
      return s.reject(from, `NEW-VIEW ${view} lacks 2f+1 distinct VIEW-CHANGEs`);
    }
    for (const vc of viewChanges) {
      const problem =
        vc.view !== view
          ? `for view ${vc.view}`
          : (viewChangeProblem(vc, s.f, s.config.logWindow) ??
            this.signatureProblem(vc) ??
            this.contradictsWhatWeReceived(vc));
      if (problem !== null || !s.ctx.servers.includes(vc.replica)) {
        return s.reject(
          from,
          `NEW-VIEW ${view} carries a bad VIEW-CHANGE: ${problem ?? vc.replica}`,
        );
      }
    }
    const decision = decideNewView(viewChanges, s.f, s.config.logWindow);
    if (decision === null) {
      return s.reject(from, `NEW-VIEW ${view}: its VIEW-CHANGEs do not decide the new view`);
    }
    if (!sameNewView(decision.prePrepares, prePrepares)) {
      return s.reject(
        from,
        `NEW-VIEW ${view} pre-prepares differ from the ones its VIEW-CHANGEs imply`,
      );
    }
    this.enterView(view, decision);
  }

  /**
   * Signature mode: each VIEW-CHANGE in a NEW-VIEW must carry its sender's valid signature,
   * so a Byzantine new primary cannot make up VIEW-CHANGEs (e.g. ones that leave out a
   * prepared request) in other replicas' names. With MACs this check is impossible.
   */
  private signatureProblem(vc: SignedViewChange): string | null {
    const s = this.s;
    if (!s.auth.transferable) return null;
    const { sig, ...body } = vc;
    if (sig === undefined) return `${vc.replica}'s VIEW-CHANGE is not signed`;
    if (s.auth.verify(vc.replica, { t: 'view-change', ...body }, [sig])) return null;
    s.rejectedMacs++;
    return `${vc.replica}'s VIEW-CHANGE has a bad signature`;
  }

  /**
   * MAC mode: a NEW-VIEW's VIEW-CHANGEs cannot be verified by a third party, but every
   * replica sends its VIEW-CHANGE to all, so a backup compares each one with the copy it got
   * from its sender directly (MAC-checked): a primary cannot put words in the mouth of a
   * replica whose VIEW-CHANGE this backup holds. Ones it has not received yet are taken as
   * carried; the other backups check those (the paper closes this with acknowledgements).
   */
  private contradictsWhatWeReceived(vc: SignedViewChange): string | null {
    const s = this.s;
    if (s.auth.transferable || vc.replica === s.ctx.self) return null;
    const direct = s.viewChanges.get(vc.view)?.get(vc.replica);
    if (direct === undefined) return null;
    const { sig: _carriedSig, ...carried } = vc;
    const { sig: _directSig, ...received } = direct;
    return canonicalJson(carried) === canonicalJson(received)
      ? null
      : `${vc.replica}'s VIEW-CHANGE differs from the one ${vc.replica} sent this replica`;
  }

  private enterView(view: number, decision: NewViewDecision): void {
    const { checkpoint, prePrepares } = decision;
    const s = this.s;
    s.view = view;
    s.inViewChange = false;
    s.persistView();
    s.ownViewChange = null;
    for (const v of Array.from(s.viewChanges.keys())) if (v <= view) s.viewChanges.delete(v);
    s.ctx.emit({ kind: 'view-installed', view, leader: s.primaryOf(view) });
    // The decided checkpoint: f+1 VIEW-CHANGEs hold it, so a correct replica has its state;
    // those holders are where it is fetched from (its digest is checked on arrival).
    if (checkpoint.seq > s.h) {
      const holders = checkpoint.holders.filter((node) => node !== s.ctx.self);
      this.p.checkpoints.makeStable(checkpoint.seq, checkpoint.digest, holders);
    }
    let maxSeq = Math.max(s.h, s.executed);
    for (const pp of prePrepares) {
      maxSeq = Math.max(maxSeq, pp.seq);
      if (pp.seq <= s.h) continue;
      const slot = s.slot(pp.seq);
      if (slot.digest !== pp.digest) slot.committed = false;
      slot.sentPrepare = false;
      slot.sentCommit = false;
      // Requests in re-issued pre-prepares are not checked against their clients' MACs: the
      // decision took each only with f+1 VIEW-CHANGEs that pre-prepared it, so a correct
      // replica accepted it, which it did only with the client's valid MAC.
      this.p.normal.acceptPrePrepare(pp.seq, slot, view, pp.digest, pp.cmd);
    }
    s.nextSeq = maxSeq + 1;
    this.p.timer.disarm();
    if (s.isPrimary()) {
      const ordered = new Set<string>();
      for (const pp of prePrepares)
        if (pp.cmd.type === 'batch') for (const r of pp.cmd.reqs) ordered.add(requestKey(r));
      for (const [key, req] of s.pending) {
        if (!ordered.has(key) && !s.machine.hasExecuted(req.client, req.seq)) {
          this.p.requests.enqueue(req);
        }
      }
    } else {
      for (const req of s.pending.values()) s.send(s.primaryOf(view), { t: 'request', req });
    }
    this.p.timer.rearm();
  }
}
