import { EXIT_SOFTWARE, EXIT_USAGE, runAgentCli } from './agent-cli';
import { startAgent, type RunningAgent } from './agent-main';
import { AgentConfigError, loadAgentConfig } from './control/load-agent-config';
import { AGENT_VERSION } from './build-info';

/**
 * Entry of the single-file agent bundle (out/agent/faultlab-agent.cjs) that the orchestrator
 * pushes to nodes: `node faultlab-agent.cjs --config <workDir>/agent.json`. Thin on purpose:
 * the behaviour lives in modules that are tested alone; this file owns only the process
 * (arguments, signals, exit codes).
 */
const command = runAgentCli(process.argv.slice(2), {
  version: AGENT_VERSION,
  nodeVersion: process.version,
});

if (command.kind === 'exit') {
  if (command.stdout !== '') process.stdout.write(command.stdout);
  if (command.stderr !== '') process.stderr.write(command.stderr);
  process.exitCode = command.exitCode;
} else {
  run(command.configPath);
}

function run(configPath: string): void {
  let agent: RunningAgent | null = null;
  const exit = (code: number): void => {
    process.exit(code);
  };
  const crash = (what: string, err: unknown): void => {
    if (agent !== null) {
      agent.fatal(what, err);
    } else {
      process.stderr.write(`faultlab-agent: ${what}: ${(err as Error)?.stack ?? String(err)}\n`);
      exit(EXIT_SOFTWARE);
    }
  };
  process.on('uncaughtException', (err) => crash('uncaught exception', err));
  process.on('unhandledRejection', (err) => crash('unhandled promise rejection', err));

  let signals = 0;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      signals++;
      if (agent === null || signals > 1) exit(signal === 'SIGINT' ? 130 : 143);
      else void agent.shutdown(`received ${signal}`, 0);
    });
  }

  let loaded;
  try {
    loaded = loadAgentConfig(configPath);
  } catch (err) {
    const why = err instanceof AgentConfigError ? err.message : String(err);
    process.stderr.write(`faultlab-agent: ${why}\n`);
    exit(EXIT_USAGE);
    return;
  }
  startAgent(loaded, { version: AGENT_VERSION, exit }).then(
    (started) => {
      agent = started;
    },
    (err: unknown) => {
      process.stderr.write(
        `faultlab-agent: ${loaded.config.node} could not start: ${(err as Error).message}\n`,
      );
      exit(1);
    },
  );
}
