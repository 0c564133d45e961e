import { describe, expect, it } from 'vitest';
import { reproduceFlags } from '../../../src-main/cli/sim-command';
import { defaultSeedJob } from '../../../src-main/explore/seed-job';

describe('the reproduce command of a failing seed', () => {
  it('carries every setting of the job, so the seed runs the same schedule again', () => {
    const flags = reproduceFlags(
      defaultSeedJob({
        stack: 'pbft',
        nodes: 4,
        clients: 3,
        keys: 7,
        heal_ms: 4_000,
        livenessBound_ms: 4_321,
        thinkTime_ms: 3,
        validateMessages: true,
        nemesisKinds: ['crash', 'recover'],
        byzantine: 'random',
        params: { checkpointEvery: 8 },
      }),
    );
    for (const part of [
      '--stack pbft',
      '--nodes 4',
      '--clients 3',
      '--keys 7',
      '--heal-ms 4000',
      '--liveness-ms 4321',
      '--think-ms 3',
      '--validate',
      '--faults crash,recover',
      '--byzantine random',
      `--params '{"checkpointEvery":8}'`,
    ]) {
      expect(flags).toContain(part);
    }
  });
});
