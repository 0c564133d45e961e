/**
 * Command-line handling of the agent bundle, kept free of `process` so it can be tested as a
 * plain function: arguments in, exit code and output out.
 */
export interface AgentBuildInfo {
  readonly version: string;
  /** `process.version` of the node running the agent, e.g. `v20.19.0`. */
  readonly nodeVersion: string;
}

export interface AgentCliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Exit code for "this build cannot do that yet / bad usage", as distinct from a crash (1). */
export const EXIT_UNSUPPORTED = 2;

export const AGENT_USAGE = `Usage: faultlab-agent [--version | --help]

The FaultLab agent runs one protocol stack instance on a node. The orchestrator copies this
single file to each node and starts it there; you do not normally run it by hand.

Options:
  --version   print the agent and Node.js versions, then exit
  --help      print this help, then exit
`;

export function runAgentCli(args: readonly string[], info: AgentBuildInfo): AgentCliResult {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    return { exitCode: 0, stdout: `${versionLine(info)}\n`, stderr: '' };
  }
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    return { exitCode: 0, stdout: AGENT_USAGE, stderr: '' };
  }
  const given = args.length === 0 ? 'no arguments' : `arguments: ${args.join(' ')}`;
  return {
    exitCode: EXIT_UNSUPPORTED,
    stdout: '',
    stderr:
      `faultlab-agent: the agent runtime is not built yet (${given}).\n` +
      `This build (${versionLine(info)}) only answers --version and --help;\n` +
      'running a stack on a node arrives with the agent runtime (src-node-agent/runtime).\n',
  };
}

function versionLine(info: AgentBuildInfo): string {
  return `faultlab-agent ${info.version} (node ${info.nodeVersion})`;
}
