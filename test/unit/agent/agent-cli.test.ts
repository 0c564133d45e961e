import { describe, expect, it } from 'vitest';
import { AGENT_USAGE, EXIT_USAGE, runAgentCli } from '../../../src-node-agent/agent-cli';

const info = { version: '1.2.3', nodeVersion: 'v18.20.0' };

describe('faultlab-agent command line', () => {
  it('prints its version and the node it runs on', () => {
    expect(runAgentCli(['--version'], info)).toEqual({
      kind: 'exit',
      exitCode: 0,
      stdout: 'faultlab-agent 1.2.3 (node v18.20.0)\n',
      stderr: '',
    });
  });

  it('prints usage for --help', () => {
    expect(runAgentCli(['--help'], info)).toEqual({
      kind: 'exit',
      exitCode: 0,
      stdout: AGENT_USAGE,
      stderr: '',
    });
  });

  it('runs with --config <path> or --config=<path>', () => {
    expect(runAgentCli(['--config', '/w/agent.json'], info)).toEqual({
      kind: 'run',
      configPath: '/w/agent.json',
    });
    expect(runAgentCli(['--config=/w/agent.json'], info)).toEqual({
      kind: 'run',
      configPath: '/w/agent.json',
    });
  });

  it('says what it expected for anything else, and exits 2', () => {
    for (const args of [[], ['run'], ['--version', '--help'], ['--config'], ['--config=']]) {
      const result = runAgentCli(args, info);
      expect(result.kind).toBe('exit');
      if (result.kind !== 'exit') continue;
      expect(result.exitCode).toBe(EXIT_USAGE);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/expected --config <agent\.json>/);
    }
  });
});
