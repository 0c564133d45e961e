import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identityOf, isAlive, type ProcessIdentity } from './netns-processes';
import { findTool, runTool } from './run-tool';

const SSHD_READY_TIMEOUT_MS = 10_000;
const BANNER_TIMEOUT_MS = 1_000;
/** sshd's privilege separation directory; the systemd unit creates it, we may run without. */
const PRIVSEP_DIR = '/run/sshd';

/** Generate an unencrypted ed25519 key pair at `path` / `path.pub`. */
export async function generateKey(path: string, comment: string): Promise<void> {
  await runTool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], {
    hint: `check that ${path} is writable and ssh-keygen works (apt-get install openssh-client)`,
  });
}

/** "ssh-ed25519 AAAA…" of a public key file, without its comment. */
export async function readPublicKey(pubPath: string): Promise<string> {
  const [type, body] = (await readFile(pubPath, 'utf8')).trim().split(/\s+/);
  if (type === undefined || body === undefined) {
    throw new Error(`netns testbed: ${pubPath} is not an OpenSSH public key`);
  }
  return `${type} ${body}`;
}

export interface SshdFiles {
  readonly dir: string;
  readonly configPath: string;
  readonly hostKey: string;
  readonly logPath: string;
}

/**
 * One node's sshd: its own host key, listening only on the node's IP (so it is reachable only
 * through the bridge), keys only, root allowed (the testbed is a lab machine of our own), SFTP
 * and stream-local forwarding on (the SSH testbed deploys by SFTP and reaches the agent's
 * control socket through a forwarded Unix socket).
 */
export async function prepareSshd(
  dir: string,
  listenIp: string,
  authorizedKeys: string,
  hostComment: string,
): Promise<SshdFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  await generateKey(hostKey, hostComment);
  const configPath = join(dir, 'sshd_config');
  const config = [
    `ListenAddress ${listenIp}:22`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // -D keeps it in the foreground as the PID we track; no pid file to go stale.
    'PidFile none',
    'Subsystem sftp internal-sftp',
    'AllowStreamLocalForwarding yes',
    'AllowTcpForwarding yes',
    'ClientAliveInterval 15',
    // Many parallel deploy connections must not hit the default MaxStartups throttle.
    'MaxStartups 100:30:200',
    '',
  ].join('\n');
  await writeFile(configPath, config, { mode: 0o600 });
  return { dir, configPath, hostKey, logPath: join(dir, 'sshd.log') };
}

/**
 * Start sshd inside `namespace`, detached (it outlives us if we crash; the next `up` finds it
 * through the state file), logging to its own file. A private UTS namespace gives the node
 * its own hostname, so `hostname` over SSH answers the node's name. Every program in the
 * chain (ip netns exec, unshare, sh) execs the next, so the PID we get is sshd's.
 */
export async function startSshd(
  namespace: string,
  hostname: string,
  files: SshdFiles,
): Promise<ProcessIdentity> {
  await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const log = openSync(files.logPath, 'a', 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(
      findTool('ip'),
      [
        'netns',
        'exec',
        namespace,
        findTool('unshare'),
        '--uts',
        '--',
        '/bin/sh',
        '-c',
        // Values arrive as positional parameters, never spliced into the script.
        'hostname "$1" && exec "$2" -D -e -f "$3"',
        'sh',
        hostname,
        findTool('sshd'),
        files.configPath,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    child.once('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(log);
  }
  const who = pid === undefined ? null : identityOf(pid);
  if (who === null) {
    throw new Error(
      `netns testbed: sshd for ${hostname} in ${namespace} did not start; see ${files.logPath}`,
    );
  }
  return who;
}

/** Read the first line the server sends, or null on timeout / refusal. */
function readBanner(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let data = '';
    const done = (value: string | null): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(BANNER_TIMEOUT_MS, () => done(null));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const nl = data.indexOf('\n');
      if (nl >= 0) done(data.slice(0, nl).trim());
      else if (data.length > 255) done(data);
    });
    socket.on('error', () => done(null));
    socket.on('end', () => done(data === '' ? null : data));
  });
}

/** Wait until the sshd at ip:22 sends its "SSH-2.0-" banner; an error with its log if not. */
export async function waitForSshd(
  ip: string,
  sshd: ProcessIdentity,
  files: SshdFiles,
  node: string,
): Promise<string> {
  const deadline = Date.now() + SSHD_READY_TIMEOUT_MS;
  for (;;) {
    const banner = await readBanner(ip, 22);
    if (banner !== null && banner.startsWith('SSH-2.0-')) return banner;
    if (!isAlive(sshd) || Date.now() > deadline) {
      const log = await readFile(files.logPath, 'utf8').catch(() => '');
      const why = isAlive(sshd) ? `no SSH banner within ${SSHD_READY_TIMEOUT_MS} ms` : 'it exited';
      throw new Error(
        `netns testbed: sshd of ${node} (pid ${sshd.pid}) on ${ip}:22 is not ready: ${why}. ` +
          `Its log ${files.logPath} says: ${log.trim().split('\n').slice(-5).join(' | ') || '(empty)'}. ` +
          `Check the config with: ip netns exec <ns> sshd -t -f ${files.configPath}`,
      );
    }
    await sleep(20);
  }
}
