import { runAgentCli } from './agent-cli';
import { AGENT_VERSION } from './build-info';

/**
 * Entry of the single-file agent bundle (out/agent/faultlab-agent.cjs) that the orchestrator
 * pushes to nodes. Thin on purpose: all behaviour lives in modules that can be tested alone.
 */
const result = runAgentCli(process.argv.slice(2), {
  version: AGENT_VERSION,
  nodeVersion: process.version,
});
if (result.stdout !== '') {
  process.stdout.write(result.stdout);
}
if (result.stderr !== '') {
  process.stderr.write(result.stderr);
}
process.exitCode = result.exitCode;
