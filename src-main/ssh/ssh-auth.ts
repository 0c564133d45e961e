import { readFile } from 'node:fs/promises';
// ssh2 is CommonJS; Node's ESM loader cannot see `utils` as a named export, so take the default.
import ssh2, {
  type AgentAuthMethod,
  type AuthMethod,
  type ParsedKey,
  type PublicKeyAuthMethod,
} from 'ssh2';

/**
 * User authentication material: private keys from identity files (decrypted with a passphrase
 * asked through a callback — the passphrase is used once and never kept) and ssh-agent.
 * Passwords are never used: FaultLab does not store or send them.
 */

/** Asked for an encrypted key; null = the user cancelled. `attempt` counts from 1. */
export type AskPassphrase = (keyPath: string, attempt: number) => Promise<string | null>;

export interface AuthSources {
  readonly user: string;
  readonly identityFiles: readonly string[];
  readonly askPassphrase?: AskPassphrase | undefined;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null = do not use an agent. */
  readonly agentSocket?: string | null | undefined;
}

export interface LoadedAuth {
  readonly methods: readonly AuthMethod[];
  /** Identity files that were not usable, and why (shown when every method fails). */
  readonly skipped: readonly string[];
}

const MAX_PASSPHRASE_ATTEMPTS = 3;
const { utils } = ssh2;

/** Where: `user@host:port`, for messages. */
export async function loadAuth(sources: AuthSources, where: string): Promise<LoadedAuth> {
  const methods: AuthMethod[] = [];
  const skipped: string[] = [];
  for (const file of sources.identityFiles) {
    const key = await loadPrivateKey(file, sources.askPassphrase, where, skipped);
    if (key !== null) {
      const method: PublicKeyAuthMethod = { type: 'publickey', username: sources.user, key };
      methods.push(method);
    }
  }
  const agent =
    sources.agentSocket === undefined ? process.env['SSH_AUTH_SOCK'] : sources.agentSocket;
  if (agent !== undefined && agent !== null && agent !== '') {
    const method: AgentAuthMethod = { type: 'agent', username: sources.user, agent };
    methods.push(method);
  }
  if (methods.length === 0) {
    const reasons = skipped.length > 0 ? ` (${skipped.join('; ')})` : '';
    throw new Error(
      `no way to log in to ${where}: no usable identity file${reasons} and no ssh-agent (SSH_AUTH_SOCK is not set); give identityFile in the inventory or ~/.ssh/config, or start ssh-agent and ssh-add your key`,
    );
  }
  return { methods, skipped };
}

async function loadPrivateKey(
  file: string,
  askPassphrase: AskPassphrase | undefined,
  where: string,
  skipped: string[],
): Promise<ParsedKey | null> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    // As OpenSSH: a missing identity file is skipped (the agent may still have the key).
    skipped.push(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return null;
  }
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) return firstKey(plain, file);
  if (!/passphrase/i.test(plain.message)) {
    throw new Error(
      `identity file ${file} (for ${where}) is not a private key ssh2 can read: ${plain.message}; give an OpenSSH, PEM or PPK private key`,
    );
  }
  if (askPassphrase === undefined) {
    throw new Error(
      `identity file ${file} (for ${where}) is encrypted and no passphrase prompt is available; run FaultLab where it can prompt, or ssh-add the key to ssh-agent`,
    );
  }
  for (let attempt = 1; attempt <= MAX_PASSPHRASE_ATTEMPTS; attempt++) {
    const passphrase = await askPassphrase(file, attempt);
    if (passphrase === null) {
      throw new Error(`passphrase for ${file} (for ${where}) was not given; connection cancelled`);
    }
    const parsed = utils.parseKey(data, passphrase);
    if (!(parsed instanceof Error)) return firstKey(parsed, file);
  }
  throw new Error(
    `wrong passphrase for ${file} (for ${where}) ${String(MAX_PASSPHRASE_ATTEMPTS)} times; connection refused`,
  );
}

function firstKey(parsed: ParsedKey | ParsedKey[], file: string): ParsedKey {
  // OpenSSH's key format can hold several keys; ssh-keygen writes one.
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key?.isPrivateKey() !== true) {
    throw new Error(`identity file ${file} holds no private key (is it the .pub file?)`);
  }
  return key;
}
