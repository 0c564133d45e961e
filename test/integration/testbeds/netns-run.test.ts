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
import { planFromLab } from '../../../src-main/orchestrator/plan-from-lab';
import { runOnLocalTestbed } from '../../../src-main/orchestrator/quick-run';
import { readRecording } from '../../../src-main/record/recording-reader';
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
      const outcome = await runOnLocalTestbed(plan, {
        runsDir,
        testbed,
        onController: () => undefined,
        print: () => {
          id ||= testbed.testbed?.id ?? '';
        },
      });
      console.log(log.join('\n'));
      expect(outcome.problems).toEqual([]);
      const rec = await readRecording(outcome.runDir);
      expect(rec.manifest.testbed.kind).toBe('netns');
      // Replicas listen on their namespace's IP, not on loopback.
      for (const n of rec.manifest.testbed.nodes) expect(n.host).toMatch(/^10\.\d+\.\d+\.\d+$/);
      const notes = rec.records.flatMap((r) => (r.type === 'note' ? [r.text] : []));
      expect(
        notes.some((t) => /in the kernel .*nft chain f\d+: drop \d+ directed node pairs/.test(t)),
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
