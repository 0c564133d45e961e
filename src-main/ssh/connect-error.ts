import type { Client } from 'ssh2';

/** What a failed connection attempt means for the user, and how to close a client for good. */

/** `cannot connect to user@host:port: <ssh2 reason>; <what to check>`. */
export function explainConnectError(
  err: Error,
  where: string,
  user: string,
  skippedIdentities: readonly string[],
): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const level = (err as Error & { level?: string }).level;
  let hint: string;
  if (level === 'client-authentication') {
    const skipped =
      skippedIdentities.length > 0 ? ` (skipped: ${skippedIdentities.join('; ')})` : '';
    hint = `the server accepted none of our keys for user ${user}${skipped}; check identityFile and the host's authorized_keys`;
  } else if (code === 'ECONNREFUSED') {
    hint = 'nothing listens there; is sshd running and the port right?';
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    hint = 'the host name does not resolve; check host/HostName';
  } else if (/timed out/i.test(err.message)) {
    hint = 'no SSH handshake in time; is the host up and reachable?';
  } else {
    hint = 'see the reason above';
  }
  return new Error(`cannot connect to ${where}: ${err.message}; ${hint}`, { cause: err });
}

const CLOSE_WAIT_MS = 2_000;

/** end() politely; destroy if the server does not close within CLOSE_WAIT_MS. */
export function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, CLOSE_WAIT_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
