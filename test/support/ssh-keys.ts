import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SSH_KEYGEN_PATH } from './sshd';

/**
 * An ed25519 key pair at `path` / `path.pub`, encrypted with `passphrase` by OpenSSH itself;
 * returns the public key line (for a test sshd's extraAuthorizedKeys).
 */
export function makeEncryptedKey(path: string, passphrase: string): string {
  const made = spawnSync(
    SSH_KEYGEN_PATH,
    ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'encrypted', '-f', path],
    { timeout: 10_000, encoding: 'utf8' },
  );
  if (made.status !== 0) {
    throw new Error(`ssh-keygen could not make an encrypted key at ${path}: ${made.stderr}`);
  }
  return readFileSync(`${path}.pub`, 'utf8').trim();
}
