/**
 * The SSH testbed against real OpenSSH (issue 5, acceptance 1–3): three sshds on loopback
 * ports with their own host keys stand for three hosts. A Paxos lab runs over them with a
 * crash and restart by PID over SSH; the bundle upload is skipped on a second deploy; an
 * unknown host key is refused; a dropped SSH link mid-run loses no event.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromLab } from '../../../src-main/orchestrator/plan-from-lab';
import { runOnLocalTestbed } from '../../../src-main/orchestrator/quick-run';
import type { RunController } from '../../../src-main/orchestrator/run-controller';
import { readRecording } from '../../../src-main/record/recording-reader';
import { SshTestbed } from '../../../src-main/testbeds/ssh/ssh-testbed';
import { sshdUnavailableReason, type TestSshd } from '../../support/sshd';
import { opensshFingerprint } from '../ssh/ssh-test-kit';
import { knownHostsFor, shortenedLab, startHosts, targetsFor, verdicts } from './testbed-kit';

const unavailable = sshdUnavailableReason();
if (unavailable !== null) console.warn(`skipping SSH testbed tests: ${unavailable}`);

const LAB = 'labs/paxos-leader-crash/lab.yaml';

describe.skipIf(unavailable !== null)('SSH testbed over three real sshds', () => {
  let sshds: TestSshd[] = [];
  let dir = '';
  let workDir = '';
  let runsDir = '';
  const testbeds: SshTestbed[] = [];

  const testbed = (name: string, log: string[] = []): SshTestbed => {
    const tb = new SshTestbed({
      targets: targetsFor(sshds, workDir),
      knownHosts: knownHostsFor(dir, name, sshds),
      reconnect: { maxAttempts: 8, initialDelayMs: 100, maxDelayMs: 1_000 },
      log: (line) => log.push(line),
    });
    testbeds.push(tb);
    return tb;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-sshtb-'));
    workDir = join(dir, 'hosts');
    runsDir = join(dir, 'runs');
    sshds = await startHosts(3);
  }, 30_000);

  afterAll(async () => {
    // Teardown is idempotent: a test that failed half-way still has its agents stopped here.
    for (const tb of testbeds) await tb.teardown({ grace_ms: 500 }).catch(() => undefined);
    await Promise.all(sshds.map((s) => s.stop()));
    if (process.env['FL_KEEP'] === undefined) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it(
    'deploys to 3 hosts, runs Paxos with a leader crash and restart over SSH, tears down; the checks pass; a second deploy skips the upload',
    { timeout: 60_000 },
    async () => {
      const log: string[] = [];
      const tb = testbed('run', log);
      const shortened = shortenedLab(LAB, { duration_ms: 8_000, faults: 2 });
      // Three "hosts", their sshds, six agents and the orchestrator share two cores: allow
      // 3 election timeouts here (the lab's 2 are held on the local testbed, where only the
      // agents run; test/integration/local-testbed.test.ts).
      const lab = {
        ...shortened,
        checks: { ...shortened.checks, progressAfterFault: { electionTimeouts: 3 } },
      };
      // No message tracing: three "hosts" and six agents share this machine's cores with the
      // orchestrator, and 2,000 traced messages/s per node would make SSH the bottleneck.
      const plan = planFromLab(lab, { labPath: LAB, traceMessages: null });
      const outcome = await runOnLocalTestbed(plan, {
        runsDir,
        testbed: tb,
      });
      console.log(log.join('\n'));
      expect(outcome.problems).toEqual([]);
      expect(tb.deployReport.some((r) => r.status === 'uploaded')).toBe(true);
      const rec = await readRecording(outcome.runDir);
      expect(rec.manifest.testbed.kind).toBe('ssh');
      const applied = rec.records.filter((r) => r.type === 'fault' && r.phase === 'applied');
      expect(applied.map((r) => (r.type === 'fault' ? r.fault.type : ''))).toEqual(
        expect.arrayContaining(['crash', 'recover']),
      );
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
      // Teardown left no run directory and no agent behind; the bundle stays for the next run.
      expect((await readdir(workDir)).sort()).toEqual(['agent']);

      const again: string[] = [];
      const second = testbed('second', again);
      await second.connect();
      await second.deploy();
      expect(second.deployReport.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
      expect(again).toContain('h2: agent up to date (hash match), upload skipped');
      await second.teardown();
    },
  );

  it('refuses a host whose key is unknown, naming the fingerprint; accepts it when the user did', async () => {
    const stranger = new SshTestbed({
      targets: targetsFor(sshds, workDir).slice(0, 1),
      knownHosts: knownHostsFor(dir, 'stranger', []),
    });
    testbeds.push(stranger);
    const fingerprint = opensshFingerprint(`${sshds[0]!.hostKeyPath}.pub`);
    await expect(stranger.connect()).rejects.toThrow(
      new RegExp(
        `h1: host key of 127\\.0\\.0\\.1:${sshds[0]!.port} is not known.*${fingerprint.replace(/[+/]/g, '\\$&')}`,
      ),
    );
    const knownHosts = knownHostsFor(dir, 'accepting', []);
    const accepting = new SshTestbed({
      targets: targetsFor(sshds, workDir).slice(0, 1),
      knownHosts,
      acceptance: { fingerprints: [fingerprint] },
    });
    testbeds.push(accepting);
    await accepting.connect();
    expect(await readFile(knownHosts.files.faultlabFile, 'utf8')).toContain(
      `[127.0.0.1]:${sshds[0]!.port}`,
    );
    await accepting.teardown();
  });

  it(
    'a dropped SSH link to one host mid-run: agents keep running, control links resume, no sequence gap',
    { timeout: 60_000 },
    async () => {
      const log: string[] = [];
      const tb = testbed('drop', log);
      const lab = shortenedLab(LAB, { duration_ms: 7_000, faults: 0, nodes: 3 });
      let controller: RunController | null = null;
      let dropped = 0;
      // Once the run is well under way, h2 (serving n2) loses its SSH link: its sshd session
      // process is SIGKILLed by PID, from the fixture.
      const timer = setInterval(() => {
        const c = controller as RunController | null;
        if (dropped === 0 && c !== null && c.now_ms() >= 2_500) dropped = sshds[1]!.dropSessions();
      }, 50);
      try {
        const outcome = await runOnLocalTestbed(planFromLab(lab, { labPath: LAB }), {
          runsDir,
          testbed: tb,
          onController: (c) => (controller = c),
        });
        expect(dropped).toBeGreaterThan(0);
        console.log(log.join('\n'));
        expect(outcome.problems).toEqual([]);
        expect(log.some((l) => /h2: SSH link \(streams\) lost/.test(l))).toBe(true);
        expect(log.some((l) => /h2: SSH link \(streams\) back/.test(l))).toBe(true);
        const link = (controller as RunController | null)?.links.get('n2');
        expect(link?.gaps).toBe(0);
        const rec = await readRecording(outcome.runDir);
        const n2 = rec.records.filter((r) => r.type === 'lifecycle' && r.node === 'n2');
        expect(n2.map((r) => (r.type === 'lifecycle' ? r.what : ''))).toEqual(
          expect.arrayContaining(['disconnected', 'connected']),
        );
        expect(
          n2.some(
            (r) =>
              r.type === 'lifecycle' &&
              r.what === 'connected' &&
              (r.detail ?? '').includes('(resumed)'),
          ),
        ).toBe(true);
        const v = verdicts(rec);
        console.log(v);
        expect(v['sequence-integrity']).toMatch(/^pass/);
        expect(v['linearizable']).toMatch(/^pass/);
        expect(existsSync(join(workDir, outcome.runId))).toBe(false);
      } finally {
        clearInterval(timer);
      }
    },
  );
});
