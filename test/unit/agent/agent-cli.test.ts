import { describe, expect, it } from 'vitest';
import { AGENT_USAGE, EXIT_UNSUPPORTED, runAgentCli } from '../../../src-node-agent/agent-cli';

const info = { version: '1.2.3', nodeVersion: 'v18.20.0' };

describe('faultlab-agent command line', () => {
  it('prints its version and the node it runs on', () => {
    expect(runAgentCli(['--version'], info)).toEqual({
      exitCode: 0,
      stdout: 'faultlab-agent 1.2.3 (node v18.20.0)\n',
      stderr: '',
    });
  });

  it('prints usage for --help', () => {
    expect(runAgentCli(['--help'], info)).toEqual({ exitCode: 0, stdout: AGENT_USAGE, stderr: '' });
  });

  it('says plainly that the runtime is not built yet, and exits 2', () => {
    for (const args of [[], ['run'], ['--version', '--help']]) {
      const result = runAgentCli(args, info);
      expect(result.exitCode).toBe(EXIT_UNSUPPORTED);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/agent runtime is not built yet/);
    }
  });
});
