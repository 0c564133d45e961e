import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../../src-main/labs/lab-schema';
import { LabError, loadLab, parseLab, validateResolvedLab } from '../../../src-main/labs/load-lab';

const LABS_DIR = join(__dirname, '../../../labs');
const FILE = 'labs/x/lab.yaml';

/** A valid lab; tests replace one line to break it. Line numbers matter: keep them stable. */
const VALID = `name: x
title: A lab
stack: paxos
params: { heartbeat_ms: 10, electionTimeout_ms: 100 }
nodes: 5
duration: 30s
workload: { clients: 2, think-time: 1ms }
faults:
  - at: 5s
    crash: leader
  - at: 10s
    restart: last-crashed
  - at: 15s
    partition: majority-minority
    minority-includes: leader
checks:
  progress-after-fault: { election-timeouts: 2 }
`;

function withLine(lineNo: number, text: string): string {
  const lines = VALID.split('\n');
  lines[lineNo - 1] = text;
  return lines.join('\n');
}

function errorOf(text: string): LabError {
  try {
    parseLab(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return err as LabError;
  }
  throw new Error('expected the lab to be rejected');
}

describe('the shipped labs', () => {
  const ids = readdirSync(LABS_DIR).filter((id) => existsSync(join(LABS_DIR, id, 'lab.yaml')));

  it('include paxos-leader-crash and paxos-partition', () => {
    expect(ids).toEqual(expect.arrayContaining(['paxos-leader-crash', 'paxos-partition']));
  });

  it.each(ids)('%s loads, names its directory, and has a README for students', (id) => {
    const lab = loadLab(join(LABS_DIR, id, 'lab.yaml'));
    expect(lab.name).toBe(id);
    const readme = readFileSync(join(LABS_DIR, id, 'README.md'), 'utf8');
    expect(readme).toContain(`npm run faultlab -- run labs/${id}/lab.yaml`);
    // What a manifest stores must validate again on its own (faultlab check relies on it).
    expect(validateResolvedLab(JSON.parse(JSON.stringify(lab)), 'run.json')).toEqual(lab);
  });

  it('paxos-leader-crash is the lab the handout describes', () => {
    const lab = loadLab(join(LABS_DIR, 'paxos-leader-crash', 'lab.yaml'));
    expect(lab).toMatchObject({
      stack: 'paxos',
      nodes: 5,
      duration_ms: 30_000,
      params: { heartbeat_ms: 10, electionTimeout_ms: 100 },
      workload: { mode: 'closed' },
      checks: { linearizable: true, agreement: true, progressAfterFault: { electionTimeouts: 2 } },
    });
    expect(lab.faults).toEqual([
      { at_ms: 5_000, action: { type: 'crash', target: { kind: 'leader' } } },
      { at_ms: 10_000, action: { type: 'restart', target: { kind: 'last-crashed' } } },
      {
        at_ms: 15_000,
        action: {
          type: 'partition',
          shape: 'majority-minority',
          node: { kind: 'leader' },
          groups: null,
        },
      },
      { at_ms: 20_000, action: { type: 'heal', what: 'network' } },
    ]);
    expect(resolveThresholds(lab)).toEqual({
      progressAfterFault_ms: 200,
      minThroughput_per_s: null,
    });
  });
});

describe('parseLab resolves', () => {
  it('durations, kebab-case fields and stack defaults', () => {
    const lab = parseLab(VALID, FILE);
    expect(lab.duration_ms).toBe(30_000);
    expect(lab.workload).toMatchObject({ clients: 2, thinkTime_ms: 1, mode: 'closed', seed: 1 });
    expect(lab.params).toMatchObject({ heartbeat_ms: 10, electionTimeoutMax_ms: 1_600 });
    expect(lab.testbed).toBe('local');
    expect(lab.checks).toEqual({
      linearizable: true,
      agreement: true,
      progressAfterFault: { electionTimeouts: 2 },
      minThroughput_per_s: null,
    });
  });

  it('every fault kind of the lab format', () => {
    const lab = parseLab(
      `name: all
title: every fault
stack: paxos
nodes: 5
duration: 1m
workload: { clients: 1, mode: open, rate: 50 }
faults:
  - { at: 1, pause: random }
  - { at: 2, resume: last-paused }
  - { at: 250ms, partition: isolate, node: n2 }
  - { at: 1.5s, partition: groups, groups: [[n1, n2], [n3, n4, n5]] }
  - { at: 3s, partition: bridge }
  - { at: 4s, cut: { from: n1, to: leader } }
  - { at: 5s, degrade: { links: [[n1, n2]], delay: 5ms, jitter: 2ms, loss: 0.1, duplicate: 0, reorder: 0 } }
  - { at: 6s, heal: all }
nemesis: { from: 5s, until: 25s, interval: 2s, kinds: [crash, recover, partition, heal-network] }
checks: { progress-after-fault: { within: 250ms }, min-throughput: 100 }
`,
      FILE,
    );
    expect(lab.faults.map((f) => f.at_ms)).toEqual([1, 2, 250, 1_500, 3_000, 4_000, 5_000, 6_000]);
    expect(lab.faults[4]?.action).toEqual({
      type: 'partition',
      shape: 'bridge',
      node: null,
      groups: null,
    });
    expect(lab.faults[6]?.action).toEqual({
      type: 'degrade',
      links: [['n1', 'n2']],
      profile: { delay_ms: 5, jitter_ms: 2, loss: 0.1, duplicate: 0, reorder: 0 },
    });
    expect(lab.nemesis).toEqual({
      from_ms: 5_000,
      until_ms: 25_000,
      interval_ms: 2_000,
      kinds: ['crash', 'recover', 'partition', 'heal-network'],
    });
    expect(lab.workload).toMatchObject({ mode: 'open', rate_per_s: 50 });
    expect(resolveThresholds(lab)).toEqual({
      progressAfterFault_ms: 250,
      minThroughput_per_s: 100,
    });
  });
});

describe('parseLab errors name the file, the line and the field', () => {
  it('a wrong type', () => {
    const err = errorOf(withLine(5, 'nodes: five'));
    expect(err.message).toContain(`${FILE}:5: nodes: expected a number, got "five"`);
  });

  it('an unknown stack, listing the known ones', () => {
    const err = errorOf(withLine(3, 'stack: raft'));
    expect(err.message).toContain(`${FILE}:3: stack: unknown stack "raft"; known stacks: paxos`);
  });

  it('an unknown field, at its own line, with the fields that exist', () => {
    const err = errorOf(`${VALID}colour: blue\n`);
    expect(err.message).toMatch(
      new RegExp(`^${FILE}:18: colour: unknown field; expected one of: version, name, title`, 'm'),
    );
    const nested = errorOf(withLine(7, 'workload: { clients: 2, think_time: 1ms }'));
    expect(nested.message).toContain(
      `${FILE}:7: workload.think_time: unknown field; expected one of: clients, mode, rate, think-time`,
    );
  });

  it('a fault naming a node that does not exist', () => {
    const err = errorOf(withLine(10, '    crash: n9'));
    expect(err.message).toContain(
      `${FILE}:10: faults[0].crash: node n9 does not exist: this lab has 5 node(s) (n1..n5)`,
    );
  });

  it('a bad duration, with what a duration looks like', () => {
    const err = errorOf(withLine(11, '  - at: true'));
    expect(err.message).toContain(
      `${FILE}:11: faults[1].at: expected a duration like "5s" or "250ms", got true`,
    );
    const top = errorOf(withLine(6, 'duration: 30 seconds'));
    expect(top.message).toContain(
      `${FILE}:6: duration: expected a duration like "5s" or "250ms", got "30 seconds"`,
    );
  });

  it('a stack parameter, checked by the stack schema and mapped to its line', () => {
    const err = errorOf(withLine(4, 'params: { heartbeat_ms: -10, electionTimeout_ms: 100 }'));
    expect(err.message).toContain(
      `${FILE}:4: params.heartbeat_ms: expected a number more than 0, got -10`,
    );
  });

  it('a fault after the end of the run, and last-crashed with nothing crashed', () => {
    // The crash moves to 45 s, so the restart at 10 s has no crash before it.
    const err = errorOf(withLine(9, '  - at: 45s'));
    expect(err.message).toContain(
      `${FILE}:9: faults[0].at: at 45s is after the end of the run (duration 30s)`,
    );
    expect(err.message).toContain(
      `${FILE}:12: faults[1].restart: last-crashed, but no earlier fault crashes a node`,
    );
  });

  it('a missing required field, at the line of its parent', () => {
    const err = errorOf(withLine(2, ''));
    expect(err.message).toContain(`${FILE}:1: title: missing; expected text`);
  });

  it('YAML syntax errors', () => {
    const err = errorOf('name: x\n  title: [\n');
    expect(err.message).toMatch(new RegExp(`^${FILE}:\\d+: \\(YAML syntax\\): `));
  });

  it('a file that does not exist', () => {
    expect(() => loadLab('labs/nope/lab.yaml')).toThrow(
      'labs/nope/lab.yaml: (file): no such file; labs live in labs/<lab-id>/lab.yaml',
    );
  });
});
