import { commandDigest, NULL_COMMAND } from './command-digest';
import { canonicalJson } from './authenticator';
import type { PrePrepareEntry, ViewChangeBody } from './messages';

/**
 * What a VIEW-CHANGE must look like to be used: a checkpoint proof of 2f+1 distinct replicas
 * (none needed for the initial state), and prepare certificates above the checkpoint, from
 * earlier views, each with 2f distinct backups and a digest that matches its requests.
 * Returns the problem, or null.
 *
 * With MAC authenticators the proofs name the replicas that vouched but cannot be re-checked
 * by a third party (the paper's MAC variant replaces them with acknowledgements); here they
 * are checked for shape and quorum size. In signature mode (auth-scheme.ts) a NEW-VIEW's
 * VIEW-CHANGEs carry their senders' signatures, which every backup checks
 * (ViewChanges.signatureProblem): that is where this code relies on signatures being
 * transferable. The certificates inside stay lists of names, not the signed PREPAREs and
 * CHECKPOINTs themselves.
 */
export function viewChangeProblem(vc: ViewChangeBody, f: number, logWindow: number): string | null {
  if (vc.stable > 0 && new Set(vc.checkpointProof).size < 2 * f + 1) {
    return `checkpoint ${vc.stable} has ${new Set(vc.checkpointProof).size} of ${2 * f + 1} votes`;
  }
  const seen = new Set<number>();
  for (const p of vc.prepared) {
    if (p.seq <= vc.stable || p.seq > vc.stable + logWindow) {
      return `prepare certificate ${p.seq} outside (${vc.stable}, ${vc.stable + logWindow}]`;
    }
    if (seen.has(p.seq)) return `two prepare certificates for ${p.seq}`;
    seen.add(p.seq);
    if (p.view >= vc.view) return `prepare certificate from view ${p.view} >= ${vc.view}`;
    if (new Set(p.prepares).size < 2 * f) return `prepare certificate ${p.seq} lacks 2f prepares`;
    if (commandDigest(p.cmd) !== p.digest) return `prepare certificate ${p.seq} digest mismatch`;
  }
  return null;
}

/**
 * The O set of NEW-VIEW (paper, section 4.4): min-s = latest stable checkpoint among the
 * VIEW-CHANGEs, max-s = highest prepared sequence number; for each n in (min-s, max-s] the
 * request of the highest-view prepare certificate for n, or the null request if none.
 * Deterministic, so every backup can recompute it from the same VIEW-CHANGEs.
 */
export function computeNewView(viewChanges: readonly ViewChangeBody[]): PrePrepareEntry[] {
  let minS = 0;
  let maxS = 0;
  for (const vc of viewChanges) {
    minS = Math.max(minS, vc.stable);
    for (const p of vc.prepared) maxS = Math.max(maxS, p.seq);
  }
  const out: PrePrepareEntry[] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    let best: PrePrepareEntry | null = null;
    let bestView = -1;
    for (const vc of viewChanges) {
      for (const p of vc.prepared) {
        if (p.seq === seq && p.view > bestView) {
          bestView = p.view;
          best = { seq, digest: p.digest, cmd: p.cmd };
        }
      }
    }
    out.push(best ?? { seq, digest: commandDigest(NULL_COMMAND), cmd: NULL_COMMAND });
  }
  return out;
}

export function sameNewView(a: readonly PrePrepareEntry[], b: readonly PrePrepareEntry[]): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
