import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  entryMatchesHost,
  formatKnownHostsLine,
  keyTypeOfBlob,
  knownHostsName,
  parseKnownHosts,
  type KnownHostsEntry,
  type KnownHostsProblem,
} from './known-hosts-file';

/**
 * Host-key verification: the user's ~/.ssh/known_hosts (read only, never written) and
 * FaultLab's own known-hosts file, where keys the user accepts in FaultLab are remembered.
 */

export interface KnownHostsFiles {
  /** Read only. Default ~/.ssh/known_hosts. */
  readonly userFile: string;
  /** Read and appended to. Default $XDG_CONFIG_HOME/faultlab/known_hosts (~/.config/…). */
  readonly faultlabFile: string;
}

export function defaultKnownHostsFiles(): KnownHostsFiles {
  const config = process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config');
  return {
    userFile: join(homedir(), '.ssh', 'known_hosts'),
    faultlabFile: join(config, 'faultlab', 'known_hosts'),
  };
}

export interface KnownKeyRef {
  readonly fingerprint: string;
  readonly keyType: string;
  readonly file: string;
  readonly line: number;
}

export type HostKeyCheck =
  | {
      readonly kind: 'known';
      readonly fingerprint: string;
      readonly file: string;
      readonly line: number;
    }
  | { readonly kind: 'unknown'; readonly fingerprint: string; readonly keyType: string }
  | {
      readonly kind: 'changed';
      readonly fingerprint: string;
      readonly keyType: string;
      /** Keys on record for the host; the presented key is none of them. */
      readonly known: readonly KnownKeyRef[];
    }
  | {
      readonly kind: 'revoked';
      readonly fingerprint: string;
      readonly file: string;
      readonly line: number;
    };

export interface HostKeyCheckResult {
  readonly check: HostKeyCheck;
  /** Lines skipped as malformed, `file:line: what`; worth logging, not fatal. */
  readonly warnings: readonly string[];
}

/** OpenSSH's fingerprint format: `SHA256:` + unpadded base64 of SHA-256 over the key blob. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export class KnownHosts {
  constructor(readonly files: KnownHostsFiles = defaultKnownHostsFiles()) {}

  /** Check `keyBlob` presented by `host:port` against both files. */
  async check(host: string, port: number, keyBlob: Buffer): Promise<HostKeyCheckResult> {
    const name = knownHostsName(host, port);
    const fingerprint = fingerprintSha256(keyBlob);
    const keyType = keyTypeOfBlob(keyBlob) ?? 'unknown-key-type';
    const { entries, problems } = await this.readAll();
    const warnings = problems.map((p) => `${p.file}:${String(p.line)}: ${p.message}`);
    const forHost = entries.filter(
      (e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name),
    );
    const revoked = forHost.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
    if (revoked !== undefined) {
      return {
        check: { kind: 'revoked', fingerprint, file: revoked.file, line: revoked.line },
        warnings,
      };
    }
    const plain = forHost.filter((e) => e.marker === null);
    const match = plain.find((e) => e.keyBlob.equals(keyBlob));
    if (match !== undefined) {
      return {
        check: { kind: 'known', fingerprint, file: match.file, line: match.line },
        warnings,
      };
    }
    if (plain.length === 0) return { check: { kind: 'unknown', fingerprint, keyType }, warnings };
    // Keys of any type count: the connection prefers the known types (see
    // preferredHostKeyAlgorithms), so a server that offers none of them has changed its keys.
    const known = plain.map((e) => ({
      fingerprint: fingerprintSha256(e.keyBlob),
      keyType: e.keyType,
      file: e.file,
      line: e.line,
    }));
    return { check: { kind: 'changed', fingerprint, keyType, known }, warnings };
  }

  /** Key types on record for `host:port`, to prefer them in the key exchange as OpenSSH does. */
  async knownKeyTypes(host: string, port: number): Promise<string[]> {
    const name = knownHostsName(host, port);
    const { entries } = await this.readAll();
    const types = entries
      .filter((e) => e.marker === null && entryMatchesHost(e, name))
      .map((e) => e.keyType);
    return Array.from(new Set(types));
  }

  /** Remember an accepted key in FaultLab's file (never in ~/.ssh/known_hosts). */
  async remember(host: string, port: number, keyBlob: Buffer): Promise<void> {
    const file = this.files.faultlabFile;
    const line = formatKnownHostsLine(knownHostsName(host, port), keyBlob);
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await appendFile(file, `${line}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
    } catch (err) {
      throw new Error(
        `cannot remember the host key of ${host}:${String(port)} in ${file}: ${(err as Error).message}; check that the directory is writable`,
        { cause: err },
      );
    }
  }

  private async readAll(): Promise<{ entries: KnownHostsEntry[]; problems: KnownHostsProblem[] }> {
    const entries: KnownHostsEntry[] = [];
    const problems: KnownHostsProblem[] = [];
    for (const file of [this.files.userFile, this.files.faultlabFile]) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new Error(
          `cannot read known-hosts file ${file}: ${(err as Error).message}; fix its permissions or move it away`,
          { cause: err },
        );
      }
      const parsed = parseKnownHosts(text, file);
      entries.push(...parsed.entries);
      problems.push(...parsed.problems);
    }
    return { entries, problems };
  }
}

/**
 * ssh2 host-key algorithm names for known key types, known first: a host on record with an RSA
 * key must be asked for RSA, or a fresh ed25519 key would look like a changed key.
 */
export function preferredHostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const out: string[] = [];
  for (const type of knownTypes) {
    if (type === 'ssh-rsa') out.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else if (!type.includes('-cert-')) out.push(type);
  }
  return Array.from(new Set(out));
}
