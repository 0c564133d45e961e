/**
 * Command-line handling of the agent bundle, kept free of `process` so it can be tested as a
 * plain function: arguments in, what to do out.
 */
export interface AgentBuildInfo {
  readonly version: string;
  /** `process.version` of the node running the agent, e.g. `v20.19.0`. */
  readonly nodeVersion: string;
}

/** Print and exit. */
export interface AgentCliResult {
  readonly kind: 'exit';
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the agent with this agent.json. */
export interface AgentRunRequest {
  readonly kind: 'run';
  readonly configPath: string;
}

/** Exit code for bad usage or a bad agent.json, as distinct from a crash. */
export const EXIT_USAGE = 2;
/** Exit code when the agent's own state can no longer be trusted (EX_SOFTWARE). */
export const EXIT_SOFTWARE = 70;

export const AGENT_USAGE = `Usage: faultlab-agent --config <agent.json>
       faultlab-agent --version | --help

The FaultLab agent runs one protocol stack instance (a replica, or a workload of clients) on
a node. The orchestrator copies this single file to each node, writes agent.json into the
agent's work directory and starts it there; you do not normally run it by hand.

Options:
  --config <path>  run the agent described by this agent.json
  --version        print the agent and Node.js versions, then exit
  --help           print this help, then exit

Exit codes: 0 stopped on request; 2 bad usage or agent.json; 1 could not start (e.g. the
port is taken); 70 the replica's state can no longer be trusted (see agent.log).
`;

export function runAgentCli(
  args: readonly string[],
  info: AgentBuildInfo,
): AgentCliResult | AgentRunRequest {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    return { kind: 'exit', exitCode: 0, stdout: `${versionLine(info)}\n`, stderr: '' };
  }
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    return { kind: 'exit', exitCode: 0, stdout: AGENT_USAGE, stderr: '' };
  }
  if (args.length === 2 && args[0] === '--config' && (args[1] ?? '') !== '') {
    return { kind: 'run', configPath: args[1] as string };
  }
  if (args.length === 1 && args[0]?.startsWith('--config=') === true && args[0].length > 9) {
    return { kind: 'run', configPath: args[0].slice('--config='.length) };
  }
  const given = args.length === 0 ? 'no arguments' : `arguments: ${args.join(' ')}`;
  return {
    kind: 'exit',
    exitCode: EXIT_USAGE,
    stdout: '',
    stderr: `faultlab-agent: expected --config <agent.json> (got ${given})\n\n${AGENT_USAGE}`,
  };
}

function versionLine(info: AgentBuildInfo): string {
  return `faultlab-agent ${info.version} (node ${info.nodeVersion})`;
}
