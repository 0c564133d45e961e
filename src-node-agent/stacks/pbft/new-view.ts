import { commandDigest, NULL_COMMAND } from './command-digest';
import { canonicalJson } from './authenticator';
import type { PrePrepareEntry, ViewChangeBody } from './messages';

/**
 * What a VIEW-CHANGE must look like to be used at all: claims within its sender's window
 * (h, h+L], prepare certificates from earlier views whose digests match their requests, at
 * most one certificate per sequence number. Returns the problem, or null.
 *
 * Shape only: whether the claims are true is not checked here, and cannot be from one message
 * (a faulty replica can claim anything about itself). `decideNewView` below never takes one
 * replica's word for a checkpoint or a request: every choice needs f+1 or 2f+1 VIEW-CHANGEs.
 */
export function viewChangeProblem(vc: ViewChangeBody, f: number, logWindow: number): string | null {
  const top = vc.stable + logWindow;
  const seen = new Set<number>();
  for (const p of vc.prepared) {
    if (p.seq <= vc.stable || p.seq > top) {
      return `prepare certificate ${p.seq} outside (${vc.stable}, ${top}]`;
    }
    if (seen.has(p.seq)) return `two prepare certificates for ${p.seq}`;
    seen.add(p.seq);
    if (p.view >= vc.view) return `prepare certificate from view ${p.view} >= ${vc.view}`;
    if (new Set(p.prepares).size < 2 * f) return `prepare certificate ${p.seq} lacks 2f prepares`;
    if (commandDigest(p.cmd) !== p.digest) return `prepare certificate ${p.seq} digest mismatch`;
  }
  const checkpoints = new Set<number>();
  for (const c of vc.checkpoints) {
    if (c.seq < vc.stable || c.seq > top) {
      return `checkpoint ${c.seq} outside [${vc.stable}, ${top}]`;
    }
    if (checkpoints.has(c.seq)) return `two checkpoints at ${c.seq}`;
    checkpoints.add(c.seq);
  }
  const prePrepared = new Set<string>();
  for (const q of vc.prePrepared) {
    if (q.seq <= vc.stable || q.seq > top) {
      return `pre-prepare ${q.seq} outside (${vc.stable}, ${top}]`;
    }
    if (q.view >= vc.view) return `pre-prepare ${q.seq} from view ${q.view} >= ${vc.view}`;
    const key = `${q.seq}|${q.digest}`;
    if (prePrepared.has(key)) return `two entries for pre-prepare ${q.seq} ${q.digest}`;
    prePrepared.add(key);
  }
  return null;
}

/** What a NEW-VIEW starts from: a checkpoint, and the pre-prepares re-issued above it. */
export interface NewViewDecision {
  readonly checkpoint: {
    readonly seq: number;
    readonly digest: string;
    /** The replicas whose VIEW-CHANGEs hold this checkpoint: where to fetch its state. */
    readonly holders: readonly string[];
  };
  readonly prePrepares: PrePrepareEntry[];
}

/**
 * The new view's starting point, decided from a set S of VIEW-CHANGEs as in the MAC variant
 * of PBFT (Castro and Liskov, TOCS 2002, section 4.5: the decision procedure), which needs no
 * proofs inside the messages and so holds with MACs and signatures alike:
 *
 * - the checkpoint: the highest (n, d) that at least f+1 VIEW-CHANGEs hold (so a correct
 *   replica has that state) and at or above the stable checkpoint of at least 2f+1;
 * - for each sequence number n above it, within L: request d, if some VIEW-CHANGE has it
 *   prepared in view v, 2f+1 VIEW-CHANGEs (stable below n) have nothing prepared at n in a
 *   later view nor a different request in v, and f+1 pre-prepared d at n in view v or later
 *   (so a correct replica vouches for d: a faulty one cannot make a request up); else the null
 *   request, if 2f+1 VIEW-CHANGEs (stable below n) have nothing prepared at n.
 *
 * Returns null when S does not decide every sequence number yet: the new primary then waits
 * for more VIEW-CHANGEs (from all correct replicas it always can decide). Deterministic, so a
 * backup recomputes it from the VIEW-CHANGEs a NEW-VIEW carries. Null requests after the last
 * re-issued request are left out: the new primary assigns those sequence numbers afresh.
 */
export function decideNewView(
  viewChanges: readonly ViewChangeBody[],
  f: number,
  logWindow: number,
): NewViewDecision | null {
  const checkpoint = chooseCheckpoint(viewChanges, f);
  if (checkpoint === null) return null;
  const h = checkpoint.seq;
  const chosen: PrePrepareEntry[] = [];
  let last = h;
  // Up to the last sequence number anything was prepared at, or that some VIEW-CHANGE's
  // stable checkpoint covers (its requests committed even where no certificate is left).
  let top = h;
  for (const vc of viewChanges) {
    top = Math.max(top, vc.stable);
    for (const p of vc.prepared) top = Math.max(top, p.seq);
  }
  top = Math.min(top, h + logWindow);
  for (let n = h + 1; n <= top; n++) {
    const entry = chooseRequest(viewChanges, f, n);
    if (entry === undefined) return null;
    if (entry === null) {
      chosen.push({ seq: n, digest: NULL_DIGEST, cmd: NULL_COMMAND });
    } else {
      chosen.push(entry);
      last = n;
    }
  }
  return { checkpoint, prePrepares: chosen.slice(0, last - h) };
}

const NULL_DIGEST = commandDigest(NULL_COMMAND);

function chooseCheckpoint(
  viewChanges: readonly ViewChangeBody[],
  f: number,
): NewViewDecision['checkpoint'] | null {
  const holders = new Map<string, { seq: number; digest: string; holders: string[] }>();
  for (const vc of viewChanges) {
    for (const c of vc.checkpoints) {
      const key = `${c.seq}|${c.digest}`;
      const entry = holders.get(key) ?? { seq: c.seq, digest: c.digest, holders: [] };
      entry.holders.push(vc.replica);
      holders.set(key, entry);
    }
  }
  let best: { seq: number; digest: string; holders: string[] } | null = null;
  for (const c of holders.values()) {
    if (c.holders.length < f + 1) continue;
    if (viewChanges.filter((vc) => vc.stable <= c.seq).length < 2 * f + 1) continue;
    // Two digests at one sequence number with f+1 holders each cannot both be correct; the
    // smaller digest wins so every replica decides the same.
    if (best === null || c.seq > best.seq || (c.seq === best.seq && c.digest < best.digest)) {
      best = c;
    }
  }
  return best === null ? null : { ...best, holders: [...best.holders].sort() };
}

/** The request for sequence number n: an entry, null for the null request, undefined = undecided. */
function chooseRequest(
  viewChanges: readonly ViewChangeBody[],
  f: number,
  n: number,
): PrePrepareEntry | null | undefined {
  const below = viewChanges.filter((vc) => vc.stable < n);
  let best: PrePrepareEntry | null = null;
  let bestView = -1;
  for (const vc of viewChanges) {
    const p = vc.prepared.find((x) => x.seq === n);
    if (p === undefined) continue;
    // A1: 2f+1 (stable below n) prepared nothing at n later than v, nor another request in v.
    const agree = below.filter((other) => {
      const q = other.prepared.find((x) => x.seq === n);
      return q === undefined || q.view < p.view || (q.view === p.view && q.digest === p.digest);
    });
    if (agree.length < 2 * f + 1) continue;
    // A2: f+1 pre-prepared this request at n in view v or later.
    const vouching = viewChanges.filter((other) =>
      other.prePrepared.some((q) => q.seq === n && q.digest === p.digest && q.view >= p.view),
    );
    if (vouching.length < f + 1) continue;
    if (p.view > bestView || (p.view === bestView && best !== null && p.digest < best.digest)) {
      best = { seq: n, digest: p.digest, cmd: p.cmd };
      bestView = p.view;
    }
  }
  if (best !== null) return best;
  // B: the null request, when 2f+1 (stable below n) prepared nothing at n.
  const empty = below.filter((vc) => !vc.prepared.some((x) => x.seq === n));
  return empty.length >= 2 * f + 1 ? null : undefined;
}

export function sameNewView(a: readonly PrePrepareEntry[], b: readonly PrePrepareEntry[]): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
