/**
 * The SSH testbed's remote shell commands, run here under a real /bin/sh: the wrapper records
 * the agent's PID and exit status, signals reach only a live agent, parsing is strict.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agentFiles,
  parseExitStatus,
  parseNodeProbe,
  parsePids,
  parsePorts,
  remotePath,
  signalAgentCommand,
  startAgentCommand,
} from '../../../src-main/testbeds/ssh/remote-commands';

const dir = mkdtempSync(join(tmpdir(), "fl-remote cmd's-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sh = (command: string): string =>
  execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 10_000 });

describe('remote commands', () => {
  it('parses the node probe and refuses anything else', () => {
    expect(parseNodeProbe('/usr/bin/node\nv20.11.1\n/root\n')).toEqual({
      nodePath: '/usr/bin/node',
      version: 'v20.11.1',
      major: 20,
      home: '/root',
    });
    expect(parseNodeProbe('bash: node: command not found\n')).toBeNull();
    expect(remotePath('~/.faultlab', '/home/lab')).toBe('/home/lab/.faultlab');
    expect(remotePath('/srv/x', '/home/lab')).toBe('/srv/x');
  });

  it('starts a detached process, kills it by PID, and reads its exit status (a path with a quote)', () => {
    const files = agentFiles(dir);
    // A stand-in "agent" started exactly as the agent is (interpreter, script, --config).
    const script = join(dir, 'agent.sh');
    writeFileSync(script, 'exec sleep 30\n');
    const out = sh(startAgentCommand('/bin/sh', script, files));
    const pids = parsePids(out);
    expect(pids).not.toBeNull();
    const { pid, wrapperPid } = pids!;
    expect(readFileSync(files.pidFile, 'utf8').trim()).toBe(String(pid));
    expect(sh(signalAgentCommand(pid, wrapperPid, files, 'STOP')).trim()).toBe('signalled');
    expect(sh(signalAgentCommand(pid, wrapperPid, files, 'KILL')).trim()).toBe('137');
    expect(parseExitStatus('137')).toEqual({ code: null, signal: 'SIGKILL' });
    // Gone: a second signal must not touch whatever reuses the PID.
    expect(sh(signalAgentCommand(pid, wrapperPid, files, 'KILL')).trim()).toBe('gone');
  });

  it('parses exit statuses and port lists strictly', () => {
    expect(parseExitStatus('0')).toEqual({ code: 0, signal: null });
    expect(parseExitStatus('70\n')).toEqual({ code: 70, signal: null });
    expect(parseExitStatus('unknown')).toEqual({ code: null, signal: null });
    expect(parsePorts('40001 40002\n', 2)).toEqual([40001, 40002]);
    expect(parsePorts('40001\n', 2)).toBeNull();
    expect(parsePorts('0 70000', 2)).toBeNull();
  });
});
