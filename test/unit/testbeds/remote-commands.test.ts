/**
 * The SSH testbed's remote shell commands, run here under a real /bin/sh: the wrapper records
 * the agent's PID and exit status, signals reach only a live agent, parsing is strict.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agentFiles,
  bundleCheckCommand,
  nodeProbeCommand,
  parseExitStatus,
  parseNodeProbe,
  parsePids,
  parseBundleCheck,
  parsePorts,
  parseProbedPorts,
  parseSha256,
  remotePath,
  signalAgentCommand,
  startAgentCommand,
  writeFileCommand,
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

  it('writes a config through the shell byte for byte, readable by the owner only', () => {
    const path = join(dir, 'sub dir', "it's.json");
    sh(`mkdir -p ${JSON.stringify(join(dir, 'sub dir'))}`);
    const text = JSON.stringify({ quote: "it's", dollar: '$HOME `x`', lines: 'a\nb' }, null, 2);
    sh(writeFileCommand(path, text));
    expect(readFileSync(path, 'utf8')).toBe(`${text}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('checks the bundle: its place, its hash when it is there, and makes its directory', () => {
    const bundle = join(dir, 'agent dir', 'bundle.cjs');
    const missing = parseBundleCheck(sh(bundleCheckCommand(bundle)));
    expect(missing.sha256).toBeNull();
    expect(statSync(join(dir, 'agent dir')).isDirectory()).toBe(true);
    const st = statSync(join(dir, 'agent dir'));
    expect(missing.place).toMatch(new RegExp(`:${st.dev}:${st.ino}$`));
    writeFileSync(bundle, 'console.log(1)\n');
    const expected = createHash('sha256').update('console.log(1)\n').digest('hex');
    expect(parseBundleCheck(sh(bundleCheckCommand(bundle)))).toEqual({
      place: missing.place,
      sha256: expected,
    });
    // A host that cannot say where the file is groups with nobody.
    expect(parseBundleCheck(`place - 5:7\n${expected}  x\n`)).toEqual({
      place: null,
      sha256: expected,
    });
    expect(parseSha256('sha256sum: x: No such file or directory\n')).toBeNull();
  });

  it('finds free ports along with the probe, and still reports Node when the search fails', () => {
    const out = sh(nodeProbeCommand({ address: '127.0.0.1', count: 2 }));
    expect(parseNodeProbe(out)?.major).toBeGreaterThanOrEqual(20);
    const ports = parseProbedPorts(out, 2);
    expect(ports).toHaveLength(2);
    expect(new Set(ports).size).toBe(2);
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: no ports, but the probe stands.
    const failed = sh(nodeProbeCommand({ address: '192.0.2.1', count: 2 }));
    expect(parseNodeProbe(failed)?.major).toBeGreaterThanOrEqual(20);
    expect(parseProbedPorts(failed, 2)).toBeNull();
  });
});
