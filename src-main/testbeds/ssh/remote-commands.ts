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
 * A watcher: prints its own PID (so teardown can stop it), then waits for the agent's wrapper
 * and prints the exit status. Polls at 50 ms: `wait` cannot wait for another session's process.
 */
export function watchAgentCommand(wrapperPid: number, f: AgentFiles): string {
  return [
    'echo $$',
    `while kill -0 ${wrapperPid} 2>/dev/null; do sleep 0.05; done`,
    `cat ${shellQuote(f.exitFile)} 2>/dev/null || echo unknown`,
  ].join('\n');
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
