import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRecording } from '../../src-main/check/check-recording';
import { loadLab } from '../../src-main/labs/load-lab';
import { planFromLab } from '../../src-main/orchestrator/plan-from-lab';
import { runOnLocalTestbed } from '../../src-main/orchestrator/quick-run';
import { readRecording } from '../../src-main/record/recording-reader';

/**
 * Issue 6, acceptance 4: four PBFT replicas as real agent processes for 30 s; at 10 s the
 * primary turns equivocating. The recording must show the view change and a new primary, and
 * no safety violation (agreement among correct replicas, linearizable history).
 */
let runsDir = '';
beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'faultlab-pbft-it-'));
});
afterAll(async () => {
  await rm(runsDir, { recursive: true, force: true });
});

describe('PBFT on the local testbed', () => {
  it('the primary turns equivocating at 10 s: a view change installs a new primary, and safety holds', async () => {
    const lab = loadLab('labs/pbft-equivocating-primary/lab.yaml');
    expect(lab.nodes).toBe(4);
    expect(lab.duration_ms).toBe(30_000);
    const outcome = await runOnLocalTestbed(
      planFromLab(lab, { labPath: 'labs/pbft-equivocating-primary/lab.yaml' }),
      { runsDir },
    );
    expect(outcome.problems).toEqual([]);
    const rec = await readRecording(outcome.runDir);

    const turned = rec.records.find(
      (r) => r.type === 'fault' && r.phase === 'applied' && r.fault.type === 'byzantine',
    );
    expect(turned, 'the byzantine switch is recorded as applied').toBeDefined();
    if (turned?.type !== 'fault' || turned.fault.type !== 'byzantine')
      throw new Error('unreachable');
    const liar = turned.fault.node;
    expect(turned.t_ms).toBeGreaterThan(9_900);
    expect(turned.t_ms).toBeLessThan(10_500);

    const acted = rec.records.some(
      (r) =>
        r.type === 'protocol' &&
        r.node === liar &&
        r.event.kind === 'behaviour' &&
        r.event['name'] === 'equivocate' &&
        String(r.event['detail']).startsWith('sends'),
    );
    expect(acted, `${liar} equivocated (behaviour events)`).toBe(true);

    const newViews = rec.records.filter(
      (r) =>
        r.type === 'protocol' &&
        r.event.kind === 'view-installed' &&
        r.t_ms > turned.t_ms &&
        r.event['leader'] !== liar,
    );
    expect(newViews.length, 'a view with another primary is installed after 10 s').toBeGreaterThan(
      0,
    );
    const first = newViews[0]!;
    console.log(
      `${liar} equivocates from ${turned.t_ms.toFixed(0)} ms; view ${String(first.type === 'protocol' ? first.event['view'] : '?')} with primary ${String(first.type === 'protocol' ? first.event['leader'] : '?')} installed at ${first.t_ms.toFixed(0)} ms`,
    );

    const report = checkRecording(rec, lab);
    const verdict = Object.fromEntries(report.checks.map((c) => [c.name, c.verdict]));
    console.log(
      report.checks.map((c) => `${c.name}: ${c.verdict}: ${c.detail.split('\n')[0]}`).join('\n'),
    );
    expect(verdict['agreement']).toBe('pass');
    expect(verdict['linearizable']).toBe('pass');
    expect(verdict['sequence-integrity']).toBe('pass');
  }, 120_000);
});
