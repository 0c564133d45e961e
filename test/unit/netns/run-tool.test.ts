import { describe, expect, it } from 'vitest';
import { findTool, runTool, ToolError } from '../../../src-main/testbeds/netns/run-tool';

describe('runTool', () => {
  it('a failing command raises an error naming the command, its stderr and what to do', async () => {
    const err = await runTool('ip', ['link', 'show', 'dev', 'flnosuchdev0'], {
      hint: 'WHAT-TO-DO',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    const e = err as ToolError;
    expect(e.message).toContain(`${findTool('ip')} link show dev flnosuchdev0`);
    expect(e.message).toMatch(/does not exist|Cannot find device/);
    expect(e.message).toContain('WHAT-TO-DO');
    expect(e.exitCode).not.toBe(0);
  });

  it('feeds stdin and returns stdout', async () => {
    const r = await runTool('sh', ['-c', 'cat'], { input: 'batch line\n', hint: '' });
    expect(r.stdout).toBe('batch line\n');
  });

  it('is bounded in time', async () => {
    const err = await runTool('sleep', ['5'], { timeout_ms: 100, hint: 'H' }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/timed out after 100 ms/);
  });

  it('names the package to install when a tool is missing', () => {
    expect(() => findTool('no-such-tool-fl')).toThrow(/not found/);
  });
});
