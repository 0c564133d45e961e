import type { RunSetup } from '../../api/api-schema';
import { testbedForRun } from '../../orchestrator/testbed-for-run';
import type { PreflightResult } from '../../preflight/preflight-result';
import type { AskPassphrase } from '../../ssh/ssh-auth';
import type { Testbed } from '../../testbeds/testbed';
import { ApiCallError } from '../api-error';

export interface SetupTestbedHooks {
  /** A testbed's log line (connects, uploads, kernel rules) for the run's setup log. */
  readonly log: (line: string) => void;
  readonly preflight: (result: PreflightResult) => void;
  readonly askPassphrase?: AskPassphrase;
}

/**
 * The testbed a dashboard run asked for. Unknown host keys are never asked about here (the
 * server has no terminal to ask on): the page shows them in its dialog after a preflight and
 * sends the accepted fingerprints with run.start.
 */
export function testbedForSetup(
  setup: Pick<RunSetup, 'testbed' | 'inventory' | 'knownHosts' | 'acceptHostKeys'>,
  hooks: SetupTestbedHooks,
): Testbed {
  try {
    return testbedForRun(setup.testbed, {
      inventory: setup.inventory,
      acceptHostKeys: setup.acceptHostKeys,
      knownHostsFile: setup.knownHosts,
      interactive: false,
      askPassphrase: hooks.askPassphrase,
      log: hooks.log,
      onPreflight: hooks.preflight,
    });
  } catch (err) {
    // Not root, no inventory, an inventory that does not parse (its message names the file,
    // line and field): nothing was started; the user changes the setup.
    throw new ApiCallError('bad-request', (err as Error).message);
  }
}
