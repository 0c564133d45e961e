import type { KnownHosts, KnownKeyRef } from './known-hosts';

/**
 * What happens to the host key a server presents: known → go on; unknown → refuse unless the
 * user accepts the shown fingerprint (then remember it in FaultLab's file); changed or revoked →
 * refuse, loudly, whatever the user says (as OpenSSH with StrictHostKeyChecking).
 */

/** Asked for an unknown host: `host` is `name:port`; true = trust and remember. */
export type AcceptUnknownHost = (fingerprint: string, host: string) => Promise<boolean>;

export type HostKeyRejection = 'unknown' | 'changed' | 'revoked';

export class HostKeyError extends Error {
  override readonly name = 'HostKeyError';
  constructor(
    readonly rejection: HostKeyRejection,
    readonly host: string,
    readonly port: number,
    /** The key the server presented. */
    readonly fingerprint: string,
    /** The keys on record (changed) or the revoking line (revoked). */
    readonly known: readonly KnownKeyRef[],
    message: string,
  ) {
    super(message);
  }
}

export interface HostVerification {
  /** For ssh2's `hostVerifier` (raw key blob, async verdict). */
  readonly verifier: (key: Buffer, verify: (ok: boolean) => void) => void;
  /** Why the last key was refused, or null; ssh2 itself only says "Host denied". */
  rejection(): HostKeyError | Error | null;
}

export function hostVerification(
  knownHosts: KnownHosts,
  host: string,
  port: number,
  acceptUnknownHost: AcceptUnknownHost | undefined,
  warn: (message: string) => void,
): HostVerification {
  let rejection: HostKeyError | Error | null = null;
  const where = `${host}:${String(port)}`;
  const decide = async (key: Buffer): Promise<boolean> => {
    const { check, warnings } = await knownHosts.check(host, port, key);
    for (const warning of warnings) warn(`known_hosts line skipped: ${warning}`);
    switch (check.kind) {
      case 'known':
        return true;
      case 'unknown': {
        const accepted =
          acceptUnknownHost === undefined
            ? false
            : await acceptUnknownHost(check.fingerprint, where);
        if (accepted) {
          await knownHosts.remember(host, port, key);
          return true;
        }
        rejection = new HostKeyError(
          'unknown',
          host,
          port,
          check.fingerprint,
          [],
          `host key of ${where} is not known: the server presented ${check.keyType} key ${check.fingerprint}. ` +
            `FaultLab refused to connect. If that fingerprint is the host's (check it on the host with ` +
            `\`ssh-keygen -lf /etc/ssh/ssh_host_${check.keyType.replace(/^ssh-/, '')}_key.pub\`), accept it ` +
            `(the dialog in the app, --accept-host-key in the CLI) and it will be remembered in ${knownHosts.files.faultlabFile}`,
        );
        return false;
      }
      case 'changed': {
        const onRecord = check.known
          .map((k) => `${k.fingerprint} (${k.keyType}, ${k.file}:${String(k.line)})`)
          .join(', ');
        const lines = check.known.map((k) => `${k.file}:${String(k.line)}`).join(', ');
        rejection = new HostKeyError(
          'changed',
          host,
          port,
          check.fingerprint,
          check.known,
          `HOST KEY CHANGED for ${where}: the server presented ${check.keyType} key ${check.fingerprint}, ` +
            `but the key on record is ${onRecord}. Someone could be intercepting the connection ` +
            `(man-in-the-middle), or the host was reinstalled. FaultLab refused to connect. If the change ` +
            `is expected, delete the old entry (${lines}) and connect again to accept the new key`,
        );
        return false;
      }
      case 'revoked':
        rejection = new HostKeyError(
          'revoked',
          host,
          port,
          check.fingerprint,
          [],
          `host key ${check.fingerprint} of ${where} is REVOKED (${check.file}:${String(check.line)}); FaultLab refused to connect`,
        );
        return false;
    }
  };
  return {
    verifier: (key, verify) => {
      rejection = null;
      decide(key).then(verify, (err: unknown) => {
        rejection = new Error(
          `cannot verify the host key of ${where}: ${err instanceof Error ? err.message : String(err)}`,
        );
        verify(false);
      });
    },
    rejection: () => rejection,
  };
}
