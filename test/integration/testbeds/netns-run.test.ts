/**
 * Issue 5, acceptance 4: a 5-replica netns testbed (plus the workload node's namespace) comes
 * up, agents are deployed over SSH to the namespaces' own sshds, the Paxos partition lab runs
 * with its partitions as nftables rules in the kernel, and everything goes down again:
 * afterwards no namespace, nft table or process of ours is left.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRecording } from '../../../src-main/check/check-recording';
import { validateResolvedLab } from '../../../src-main/labs/load-lab';
import { planFromLab } from '../../../src-main/orchestrator/plan-from-lab';
import type { Recording } from '../../../src-main/record/recording-reader';
import { runOnLocalTestbed } from '../../../src-main/orchestrator/quick-run';
import { readRecording } from '../../../src-main/record/recording-reader';
import { PreflightedTestbed } from '../../../src-main/preflight/preflighted-testbed';
import { NetnsTestbed } from '../../../src-main/testbeds/netns/netns-testbed';
import { findTool } from '../../../src-main/testbeds/netns/run-tool';
import { shortenedLab, verdicts } from './testbed-kit';

function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'nft', 'tc', 'sshd', 'ssh-keygen', 'unshare']) {
    try {
      findTool(tool);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}
const skipReason = missingPrerequisite();
if (skipReason !== null) console.log(`netns run test skipped: ${skipReason}`);

const LAB = 'labs/paxos-partition/lab.yaml';
/** Every replica executing again after a heal (see the test). */
const HEAL_RECOVERY_MS = 1_000;

/** Command lines of every process on this machine that mention `needle`. */
function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd}`);
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/**
 * Per heal of the network: ms until every replica executed a slot again (null: one never
 * did). A replica cut off by the partition executes again only once its TCP links to the others
 * carry traffic, so this measures how fast the agents' connections recover from a kernel
 * partition (stalled connections are detected and re-dialled, outgoing-link.ts).
 */
function recoveryAfterHeals(rec: Recording): { at_ms: number; took_ms: number | null }[] {
  const replicas = rec.manifest.testbed.nodes.filter((n) => n.role === 'replica').map((n) => n.id);
  const commits = rec.records.flatMap((r) =>
    r.type === 'protocol' && r.event.kind === 'executed' ? [{ t: r.t_ms, node: r.node }] : [],
  );
  return rec.records.flatMap((r) => {
    if (
      r.type !== 'fault' ||
      r.phase !== 'applied' ||
      (r.fault.type !== 'heal-network' && r.fault.type !== 'heal-all')
    )
      return [];
    const firsts = replicas.map(
      (id) => commits.find((c) => c.node === id && c.t > r.t_ms)?.t ?? Number.POSITIVE_INFINITY,
    );
    const last = Math.max(...firsts);
    return [{ at_ms: r.t_ms, took_ms: Number.isFinite(last) ? last - r.t_ms : null }];
  });
}

describe.skipIf(skipReason !== null)('netns testbed: a run over SSH with kernel partitions', () => {
  let runsDir = '';
  let tb: NetnsTestbed | null = null;

  beforeAll(async () => {
    runsDir = await mkdtemp(join(tmpdir(), 'fl-netns-run-'));
  });
  afterAll(async () => {
    await tb?.teardown({ grace_ms: 500 }).catch(() => undefined);
    await rm(runsDir, { recursive: true, force: true });
  }, 30_000);

  it(
    'up, deploy over SSH, Paxos under nftables partitions, down; nothing of ours left',
    { timeout: 90_000 },
    async () => {
      const log: string[] = [];
      tb = new NetnsTestbed({ log: (l) => log.push(l) });
      const testbed = tb;
      let id = '';
      // First six faults: halves, heal, bridge via n3, heal, isolate the leader, heal.
      const lab = shortenedLab(LAB, { duration_ms: 10_000, faults: 6 });
      const plan = planFromLab(lab, { labPath: LAB, traceMessages: null });
      // As `faultlab run --testbed netns` does: a preflight between provision and deploy.
      const preflighted = new PreflightedTestbed(testbed, { print: (l) => log.push(l) });
      const outcome = await runOnLocalTestbed(plan, {
        runsDir,
        testbed: preflighted,
        onController: () => undefined,
        print: () => {
          id ||= testbed.testbed?.id ?? '';
        },
      });
      console.log(log.join('\n'));
      expect(outcome.problems).toEqual([]);
      // The preflight ran on the 6 namespaces: every check passed, every pair's RTT measured.
      const pre = preflighted.result;
      expect(pre?.ok, log.join('\n')).toBe(true);
      expect(pre?.hosts.length).toBe(6);
      expect(pre?.checks.filter((c) => c.check === 'rtt' && c.status === 'pass').length).toBe(15);
      expect(pre?.checks.find((c) => c.check === 'kernel-faults')?.status).toBe('pass');
      expect(log.some((l) => /preflight passed/.test(l))).toBe(true);
      const rec = await readRecording(outcome.runDir);
      expect(rec.manifest.testbed.kind).toBe('netns');
      // Replicas listen on their namespace's IP, not on loopback.
      for (const n of rec.manifest.testbed.nodes) expect(n.host).toMatch(/^10\.\d+\.\d+\.\d+$/);
      const notes = rec.records.flatMap((r) => (r.type === 'note' ? [r.text] : []));
      expect(
        notes.some((t) =>
          /in the kernel .*nft chain f[0-9a-f]+_\d+: drop \d+ directed node pairs/.test(t),
        ),
      ).toBe(true);
      const partitions = rec.records.filter(
        (r) => r.type === 'fault' && r.phase === 'applied' && r.fault.type === 'partition',
      );
      expect(partitions.length).toBe(3);
      const v = verdicts(rec);
      console.log(v);
      for (const check of [
        'linearizable',
        'agreement',
        'progress-after-fault',
        'sequence-integrity',
      ]) {
        expect(v[check], check).toMatch(/^pass/);
      }
      // The lab's progress bound holds after every partition, each one measured (not only the
      // worst).
      const progress = checkRecording(
        rec,
        validateResolvedLab(rec.manifest.lab, 'run.json'),
      ).checks.find((c) => c.name === 'progress-after-fault');
      const bound_ms = progress?.threshold ?? 0;
      expect(bound_ms).toBeGreaterThan(0);
      const perFault = [
        ...(progress?.detail ?? '').matchAll(/\] at [\d.]+m?s: ([\d.]+)(m?s)/g),
      ].map((m) => Number(m[1]) * (m[2] === 's' ? 1_000 : 1));
      expect(perFault.length, progress?.detail).toBe(partitions.length);
      for (const gap of perFault) expect(gap, progress?.detail).toBeLessThanOrEqual(bound_ms);
      // After every heal each replica executes again with its TCP links re-dialled, not after
      // a retransmission backoff (which reaches 1.6 s after a 1.5 s partition). Typically
      // within the lab's bound too; the margin is for elections that a loaded machine's
      // scheduling (other tests, 2 cores) sometimes adds.
      const heals = recoveryAfterHeals(rec);
      console.log(`every replica executing again after each heal:`, heals);
      expect(heals.length).toBe(3);
      for (const h of heals) {
        expect(h.took_ms, `heal at ${h.at_ms} ms`).not.toBeNull();
        expect(h.took_ms as number, `heal at ${h.at_ms} ms`).toBeLessThanOrEqual(HEAL_RECOVERY_MS);
      }
      expect(id).toMatch(/^[a-z0-9]+$/);
      // Down: no namespace, no nft table, no process of this testbed.
      const namespaces = execFileSync(findTool('ip'), ['netns', 'list'], { encoding: 'utf8' });
      const tables = execFileSync(findTool('nft'), ['list', 'tables'], { encoding: 'utf8' });
      expect(namespaces.split('\n').filter((l) => l.includes(`-${id}`))).toEqual([]);
      expect(tables.split('\n').filter((l) => l.includes(id))).toEqual([]);
      expect(processesMentioning(outcome.runId)).toEqual([]);
      expect(processesMentioning(`/${id}/`)).toEqual([]);
    },
  );
});
