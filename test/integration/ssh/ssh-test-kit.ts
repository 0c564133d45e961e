/**
 * Shared pieces of the SSH integration tests: fresh known-hosts files per test, connections
 * that are disposed after each test, fingerprints computed by OpenSSH itself (ssh-keygen -lf)
 * so our own fingerprint code is checked against the reference rather than against itself.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnownHosts } from '../../../src-main/ssh/known-hosts';
import { SshConnection, type SshConnectionOptions } from '../../../src-main/ssh/ssh-connection';
import { SSH_KEYGEN_PATH, type TestSshd } from '../../support/sshd';

/** SHA256:… of a public key file, as OpenSSH prints it. */
export function opensshFingerprint(publicKeyPath: string): string {
  const out = execFileSync(SSH_KEYGEN_PATH, ['-l', '-E', 'sha256', '-f', publicKeyPath], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const fingerprint = /\b(SHA256:[A-Za-z0-9+/]+)/.exec(out)?.[1];
  if (fingerprint === undefined) throw new Error(`ssh-keygen -lf printed no fingerprint: ${out}`);
  return fingerprint;
}

let counter = 0;

/** Two files in `dir`: a stand-in for ~/.ssh/known_hosts and FaultLab's own file. */
export function freshKnownHosts(dir: string): KnownHosts {
  counter += 1;
  return new KnownHosts({
    userFile: join(dir, `user_known_hosts_${String(counter)}`),
    faultlabFile: join(dir, `faultlab_${String(counter)}`, 'known_hosts'),
  });
}

/** The user file already trusts `sshd`'s current key (plain `[127.0.0.1]:port` line). */
export function trusting(dir: string, sshd: TestSshd): KnownHosts {
  const knownHosts = freshKnownHosts(dir);
  const [type, key] = sshd.hostPublicKey.split(' ');
  writeFileSync(
    knownHosts.files.userFile,
    `# written by the test\n[127.0.0.1]:${String(sshd.port)} ${String(type)} ${String(key)}\n`,
  );
  return knownHosts;
}

/** Connections opened by a test, disposed in afterEach. */
export class ConnectionPool {
  private readonly open: SshConnection[] = [];

  async connect(
    sshd: TestSshd,
    knownHosts: KnownHosts,
    extra: Partial<SshConnectionOptions> = {},
  ): Promise<SshConnection> {
    const connection = await SshConnection.connect({
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      identityFiles: [sshd.clientKeyPath],
      agentSocket: null,
      knownHosts,
      readyTimeoutMs: 10_000,
      ...extra,
    });
    this.open.push(connection);
    return connection;
  }

  async disposeAll(): Promise<void> {
    const all = this.open.splice(0);
    await Promise.all(all.map((c) => c.dispose()));
  }
}
