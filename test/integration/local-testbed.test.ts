/**
 * Issue acceptance on the local testbed: real agent processes, real TCP, real timers, a real
 * disk. Each test is bounded in time and cleans up its processes (by PID) and directories.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src-node-agent/runtime/framing';
import { checkRecording } from '../../src-main/check/check-recording';
import { executePlan, runCommand } from '../../src-main/cli/run-command';
import {
  appliedFaults,
  compareFaults,
  REPLAY_TOLERANCE_MS,
} from '../../src-main/cli/replay-command';
import { loadLab, validateResolvedLab } from '../../src-main/labs/load-lab';
import { planFromLab } from '../../src-main/orchestrator/plan-from-lab';
import { runOnLocalTestbed } from '../../src-main/orchestrator/quick-run';
import type { RunController } from '../../src-main/orchestrator/run-controller';
import { readRecording, type Recording } from '../../src-main/record/recording-reader';

let runsDir = '';
beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'faultlab-it-'));
});
afterAll(async () => {
  await rm(runsDir, { recursive: true, force: true });
});

function verdicts(rec: Recording): Record<string, string> {
  const lab = validateResolvedLab(rec.manifest.lab, 'run.json');
  return Object.fromEntries(
    checkRecording(rec, lab).checks.map((c) => [
      c.name,
      `${c.verdict}: ${c.detail.split('\n')[0]}`,
    ]),
  );
}

describe('local testbed', () => {
  let original: Recording | null = null;

  it(
    '5-node Paxos, leader SIGKILLed at 5 s and restarted at 10 s, majority/minority partition 15–20 s: linearizable, logs agree, commits resume within 2 election timeouts',
    { timeout: 120_000 },
    async () => {
      const lab = loadLab('labs/paxos-leader-crash/lab.yaml');
      expect(lab.duration_ms).toBe(30_000);
      const outcome = await runOnLocalTestbed(
        planFromLab(lab, { labPath: 'labs/paxos-leader-crash/lab.yaml' }),
        { runsDir },
      );
      expect(outcome.problems).toEqual([]);
      const rec = await readRecording(outcome.runDir);
      original = rec;
      const faults = appliedFaults(rec);
      expect(faults.map((f) => f.fault.type)).toEqual([
        'crash',
        'recover',
        'partition',
        'heal-network',
      ]);
      expect(faults.map((f) => Math.round(f.t_ms / 1000))).toEqual([5, 10, 15, 20]);
      const v = verdicts(rec);
      console.log(v);
      expect(v['linearizable']).toMatch(/^pass/);
      expect(v['agreement']).toMatch(/^pass/);
      expect(v['progress-after-fault']).toMatch(/^pass/);
      expect(v['sequence-integrity']).toMatch(/^pass/);
      expect(rec.history.filter((h) => h.type === 'ok').length).toBeGreaterThan(1000);
    },
  );

  it(
    'faultlab replay applies the same faults at the same offsets (±50 ms)',
    { timeout: 120_000 },
    async () => {
      expect(original).not.toBeNull();
      const rec = original as Recording;
      const lab = validateResolvedLab(rec.manifest.lab, 'run.json');
      const faults = appliedFaults(rec);
      const outcome = await runOnLocalTestbed(
        planFromLab(lab, {
          labPath: null,
          replayFaults: faults.map((f) => ({ at_ms: f.t_ms, fault: f.fault })),
        }),
        { runsDir },
      );
      const replay = await readRecording(outcome.runDir);
      const cmp = compareFaults(faults, appliedFaults(replay));
      console.log(cmp.rows);
      expect(cmp.sameFaults).toBe(true);
      expect(cmp.worstDelta_ms).toBeLessThanOrEqual(REPLAY_TOLERANCE_MS);
      expect(verdicts(replay)['agreement']).toMatch(/^pass/);
    },
  );

  it(
    'a control connection closed by force mid-run, and garbage on the control stream, lose and duplicate nothing',
    { timeout: 60_000 },
    async () => {
      let controller: RunController | null = null;
      const lab = loadLab('labs/paxos-leader-crash/lab.yaml');
      const plan = planFromLab({ ...lab, duration_ms: 6_000, faults: [] }, { labPath: null });
      const blips: Promise<void>[] = [];
      const outcome = await runOnLocalTestbed(plan, {
        runsDir,
        onController: (c) => (controller = c),
        onStatus: (s) => {
          const c = controller as RunController | null;
          if (c === null) return;
          if (s.elapsed_ms > 1_500 && blips.length === 0) {
            blips.push(Promise.resolve());
            c.dropControlConnection('n2');
            c.dropControlConnection('w1');
            // Well-framed but not a valid command: answered with an error, nothing else happens.
            c.links.get('n3')?.sendRaw(encodeFrame({ t: 'format-disk', please: true }));
          } else if (s.elapsed_ms > 3_000 && blips.length === 1) {
            blips.push(Promise.resolve());
            // Not even a frame: the agent drops this connection; the link reconnects.
            c.links.get('n4')?.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7b]));
          }
        },
      });
      expect(blips).toHaveLength(2);
      const rec = await readRecording(outcome.runDir);
      const reconnected = rec.records
        .filter((r) => r.type === 'lifecycle' && r.what === 'disconnected')
        .map((r) => (r.type === 'lifecycle' ? r.node : ''));
      expect(reconnected).toEqual(expect.arrayContaining(['n2', 'w1', 'n4']));
      const v = verdicts(rec);
      console.log(v);
      expect(v['sequence-integrity']).toMatch(/^pass/);
      expect(v['agreement']).toMatch(/^pass/);
      expect(v['linearizable']).toMatch(/^pass/);
    },
  );

  it(
    'an orchestrator SIGKILLed mid-run with a partition applied: every agent heals it within the lease, then exits by itself',
    { timeout: 60_000 },
    async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/integration/fixtures/orchestrate-then-hang.ts'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let nodes: { id: string; pid: number; dir: string }[] = [];
      try {
        nodes = await new Promise((resolve, reject) => {
          let text = '';
          const timer = setTimeout(
            () => reject(new Error(`orchestrator fixture printed nothing useful: ${text}`)),
            30_000,
          );
          child.stdout.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            const line = text.split('\n').find((l) => l.startsWith('{"ready"'));
            if (line !== undefined) {
              clearTimeout(timer);
              resolve(
                (JSON.parse(line) as { nodes: { id: string; pid: number; dir: string }[] }).nodes,
              );
            }
          });
        });
        const killedAt = Date.now();
        child.kill('SIGKILL');
        const lease_ms = 1_500;
        // Every replica had link faults (n1 isolated): each must log the heal within the lease (+ slack).
        for (const n of nodes.filter((x) => x.id !== 'w1')) {
          const log = join(n.dir, 'agent.log');
          let text = '';
          while (Date.now() - killedAt < lease_ms + 3_000) {
            text = existsSync(log) ? await readFile(log, 'utf8') : '';
            if (/lease expired/.test(text)) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          expect(text, `${n.id} agent.log`).toMatch(
            /lease expired after \d+ ms without an orchestrator: healed [1-9]\d* link fault/,
          );
        }
        // And then, still orphaned, every agent exits by itself (after 4 leases here).
        const alive = (pid: number): boolean => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        };
        while (Date.now() - killedAt < 11_000 && nodes.some((n) => alive(n.pid))) {
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(nodes.filter((n) => alive(n.pid)).map((n) => n.id)).toEqual([]);
        const log = await readFile(join(nodes[0]?.dir ?? '', 'agent.log'), 'utf8');
        expect(log).toMatch(/exiting \(orphaned agent\)/);
      } finally {
        child.kill('SIGKILL');
        for (const n of nodes) {
          try {
            process.kill(n.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        for (const n of nodes) await rm(n.dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'an operator command typed during the run is applied, journaled and recorded as a command',
    { timeout: 60_000 },
    async () => {
      const lab = loadLab('labs/paxos-leader-crash/lab.yaml');
      const plan = planFromLab({ ...lab, duration_ms: 5_000, faults: [] }, { labPath: null });
      const commands = new PassThrough();
      const lines: string[] = [];
      const typing = setTimeout(() => commands.write('crash leader\nexplode n1\n'), 2_500);
      const code = await executePlan(plan, {
        outDir: runsDir,
        print: (l) => lines.push(l),
        interactive: false,
        commands,
      });
      clearTimeout(typing);
      const runDir =
        lines.find((l) => l.startsWith('recording: '))?.slice('recording: '.length) ?? '';
      const rec = await readRecording(runDir);
      const byCommand = rec.records.filter((r) => r.type === 'fault' && r.source === 'command');
      expect(
        byCommand.map((r) => (r.type === 'fault' ? `${r.phase} ${r.fault.type}` : '')),
      ).toEqual(['journal crash', 'applied crash']);
      expect(lines.join('\n')).toContain('unknown command "explode"');
      expect(code).toBe(0);
    },
  );

  it('a lab file with a wrong type is refused with its file, line and field, and nothing runs (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultlab-badlab-'));
    const path = join(dir, 'lab.yaml');
    const text = (await readFile('labs/paxos-leader-crash/lab.yaml', 'utf8')).replace(
      'nodes: 5',
      'nodes: five',
    );
    await writeFile(path, text);
    const lines: string[] = [];
    const code = await runCommand({
      labPath: path,
      outDir: runsDir,
      print: (l) => lines.push(l),
      interactive: false,
    });
    expect(code).toBe(2);
    const line = text.split('\n').findIndex((l) => l.startsWith('nodes:')) + 1;
    expect(lines.join('\n')).toContain(`${path}:${line}`);
    expect(lines.join('\n')).toMatch(/nodes/);
    await rm(dir, { recursive: true, force: true });
  });
});
