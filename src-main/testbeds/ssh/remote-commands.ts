import { posix } from 'node:path';
import { shellQuote } from '../../ssh/ssh-exec';

/**
 * The shell commands the SSH testbed runs on a host, as pure functions (unit-tested): POSIX
 * sh only, every path quoted, so any work dir works and nothing depends on the login shell.
 */

/** Oldest Node major the agent bundle runs on. */
export const MIN_NODE_MAJOR = 20;

/** The Node binary and its version, read in one exec (login PATH may lack it: say so). */
export const NODE_PROBE_COMMAND =
  'command -v node >/dev/null 2>&1 || { echo "faultlab: node not found on PATH=$PATH" >&2; exit 127; }; ' +
  'printf "%s\\n" "$(command -v node)"; node --version; printf "%s\\n" "$HOME"';

/**
 * The probe, and when `ports` is given, that many free ports on `ports.address` on a 4th line
 * (the same Node start a separate search would cost, paid while the shell is already busy).
 * A failed search prints no 4th line, so the probe still tells what it found about Node.
 */
export function nodeProbeCommand(ports: { address: string; count: number } | null): string {
  if (ports === null || ports.count === 0) return NODE_PROBE_COMMAND;
  return `${NODE_PROBE_COMMAND}; { ${freePortsCommand('node', ports.address, ports.count)} 2>/dev/null || true; }`;
}

/** The ports line of nodeProbeCommand's output, or null when there is none (or it is bad). */
export function parseProbedPorts(stdout: string, count: number): number[] | null {
  const line = stdout.trim().split('\n')[3];
  return line === undefined ? null : parsePorts(line, count);
}

export interface NodeProbe {
  readonly nodePath: string;
  readonly version: string;
  readonly major: number;
  readonly home: string;
}

/** Parse NODE_PROBE_COMMAND's output; null when it is not what the command prints. */
export function parseNodeProbe(stdout: string): NodeProbe | null {
  const [nodePath, version, home] = stdout
    .trim()
    .split('\n')
    .map((l) => l.trim());
  const major = /^v(\d+)\./.exec(version ?? '')?.[1];
  if (nodePath === undefined || major === undefined || home === undefined || home === '') {
    return null;
  }
  return { nodePath, version: version as string, major: Number(major), home };
}

/** `~/x` made absolute with the remote $HOME (sftp and Unix sockets want absolute paths). */
export function remotePath(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return posix.join(home, path.slice(2));
  return path;
}

/** Files of one agent in its work dir. */
export interface AgentFiles {
  readonly workDir: string;
  readonly config: string;
  /** The agent's own PID (the target of kill/STOP/CONT). */
  readonly pidFile: string;
  /** The wrapper shell's PID: alive exactly as long as the agent has not been reaped. */
  readonly wrapperPidFile: string;
  /** The agent's exit status as the wrapper saw it (`$?`: 128+n for signal n). */
  readonly exitFile: string;
  readonly stdoutLog: string;
}

export function agentFiles(workDir: string): AgentFiles {
  return {
    workDir,
    config: posix.join(workDir, 'agent.json'),
    pidFile: posix.join(workDir, 'agent.pid'),
    wrapperPidFile: posix.join(workDir, 'wrapper.pid'),
    exitFile: posix.join(workDir, 'agent.exit'),
    stdoutLog: posix.join(workDir, 'stdout.log'),
  };
}

/**
 * Start the agent detached from the SSH session: `setsid` gives it its own session (no SIGHUP
 * when the connection drops), stdio goes to files (the exec channel closes at once), and a
 * small wrapper shell waits for the agent so its exit status lands in a file even though no
 * SSH session is its parent. Prints "<agent pid> <wrapper pid>".
 */
export function startAgentCommand(nodePath: string, bundle: string, f: AgentFiles): string {
  const q = shellQuote;
  const wrapper =
    `echo $$ > ${q(f.wrapperPidFile)}; ` +
    `${q(nodePath)} ${q(bundle)} --config ${q(f.config)} & ` +
    `echo $! > ${q(f.pidFile)}; wait $!; echo $? > ${q(f.exitFile)}`;
  return [
    `cd ${q(f.workDir)}`,
    `rm -f ${q(f.pidFile)} ${q(f.wrapperPidFile)} ${q(f.exitFile)}`,
    `setsid nohup sh -c ${q(wrapper)} >> ${q(f.stdoutLog)} 2>&1 < /dev/null &`,
    // The wrapper writes both PID files within a few ms; 5 s bounds a stuck host.
    `i=0; while [ ! -s ${q(f.pidFile)} ] || [ ! -s ${q(f.wrapperPidFile)} ]; do ` +
      `i=$((i+1)); [ $i -gt 500 ] && { echo "agent did not start within 5 s" >&2; exit 1; }; sleep 0.01; done`,
    `echo "$(cat ${q(f.pidFile)}) $(cat ${q(f.wrapperPidFile)})"`,
  ].join('\n');
}

export function parsePids(stdout: string): { pid: number; wrapperPid: number } | null {
  const m = /^(\d+) (\d+)\s*$/.exec(stdout.trim());
  if (m === null) return null;
  return { pid: Number(m[1]), wrapperPid: Number(m[2]) };
}

/**
 * Signal the agent only while its wrapper lives (the wrapper reaps it, so a live wrapper means
 * the PID is still the agent's and not a reused one), then, for KILL/TERM, wait until the
 * wrapper has recorded the exit. Prints the exit status, or "gone" if it had already exited.
 */
export function signalAgentCommand(
  pid: number,
  wrapperPid: number,
  f: AgentFiles,
  signal: 'KILL' | 'TERM' | 'STOP' | 'CONT',
  waitTimeout_ms = 10_000,
): string {
  const wait = signal === 'KILL' || signal === 'TERM';
  const loops = Math.ceil(waitTimeout_ms / 10);
  return [
    `if ! kill -0 ${wrapperPid} 2>/dev/null; then echo gone; exit 0; fi`,
    // A stopped agent must run again to act on TERM (KILL works either way).
    signal === 'TERM' ? `kill -CONT ${pid} 2>/dev/null` : ':',
    `kill -${signal} ${pid} 2>/dev/null`,
    wait
      ? `i=0; while kill -0 ${wrapperPid} 2>/dev/null; do i=$((i+1)); [ $i -gt ${loops} ] && { echo running; exit 0; }; sleep 0.01; done; cat ${shellQuote(f.exitFile)} 2>/dev/null || echo unknown`
      : 'echo signalled',
  ].join('\n');
}

/**
 * A watcher started in the background of the host's command shell: waits for the agent's
 * wrapper, then reports the exit status through `notice` (RemoteShell.noticeCommand, given the
 * shell expression of the status). Polls at 50 ms: `wait` cannot wait for another session's
 * process. It ends with the agent; a shell closed under it only loses the report.
 */
export function watchAgentCommand(
  wrapperPid: number,
  f: AgentFiles,
  notice: (valueExpr: string) => string,
): string {
  return (
    `( while kill -0 ${wrapperPid} 2>/dev/null; do sleep 0.05; done; ` +
    `s=$(cat ${shellQuote(f.exitFile)} 2>/dev/null || echo unknown); ${notice('"$s"')} ) 2>/dev/null &`
  );
}

/** Write `text` to `path` readable by the owner only, through the command shell (no stdin). */
export function writeFileCommand(path: string, text: string): string {
  return `umask 077 && printf '%s\n' ${shellQuote(text)} > ${shellQuote(path)}`;
}

/**
 * Make the bundle's directory, then print where it is (the machine id and the directory's
 * device:inode, so hosts that are one filesystem — namespaces of one machine, a shared NFS
 * home — are told apart from hosts that merely use the same path) and the sha256 of the
 * bundle there (nothing when it is missing): the deploy decides on uploads in one round trip.
 */
export function bundleCheckCommand(bundlePath: string): string {
  const dir = shellQuote(posix.dirname(bundlePath));
  return (
    `mkdir -p -- ${dir} && ` +
    `printf 'place %s %s\\n' "$(cat /etc/machine-id 2>/dev/null || echo -)" "$(stat -c %d:%i -- ${dir} 2>/dev/null || echo -)" && ` +
    `{ sha256sum -- ${shellQuote(bundlePath)} 2>/dev/null || true; }`
  );
}

/** bundleCheckCommand's answer: `place` null when the host could not say where the file is. */
export function parseBundleCheck(stdout: string): { place: string | null; sha256: string | null } {
  const [first = '', ...rest] = stdout.split('\n');
  const m = /^place (\S+) (\S+)$/.exec(first.trim());
  const place = m === null || m[1] === '-' || m[2] === '-' ? null : `${m[1]}:${m[2]}`;
  return { place, sha256: parseSha256(rest.join('\n')) };
}

/** The hex digest in `sha256sum` output, or null (no file, or not what sha256sum prints). */
export function parseSha256(stdout: string): string | null {
  return /^([0-9a-f]{64})\s/.exec(stdout)?.[1] ?? null;
}

/** Exit status as the wrapper wrote it → code / signal as Node reports them. */
export function parseExitStatus(text: string): { code: number | null; signal: string | null } {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || text.trim() === '') return { code: null, signal: null };
  if (n > 128 && n < 128 + 65)
    return { code: null, signal: SIGNAL_NAMES[n - 128] ?? `SIG${n - 128}` };
  return { code: n, signal: null };
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
};

/**
 * Free TCP ports on `address` as the host sees them: bind `count` listeners on port 0 at once
 * (so the ports are distinct), print them, close. Racy as any free-port probe is; an agent
 * that loses the race fails with EADDRINUSE and says so.
 */
export function freePortsCommand(nodePath: string, address: string, count: number): string {
  const script =
    'const net=require("net");const n=+process.argv[2],a=process.argv[1];const s=[];' +
    'let k=0;const done=()=>{console.log(s.map(x=>x.address().port).join(" "));s.forEach(x=>x.close())};' +
    'for(let i=0;i<n;i++){const v=net.createServer();s.push(v);' +
    'v.on("error",e=>{console.error(e.message);process.exit(1)});v.listen(0,a,()=>{if(++k===n)done()})}';
  return `${shellQuote(nodePath)} -e ${shellQuote(script)} ${shellQuote(address)} ${count}`;
}

export function parsePorts(stdout: string, count: number): number[] | null {
  const ports = stdout.trim().split(/\s+/).map(Number);
  if (ports.length !== count || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
    return null;
  }
  return ports;
}
