import { hash53 } from '../../core/hash';
import { rememberCanonical } from './authenticator';
import type { Command } from './messages';

/**
 * The digest d of PRE-PREPARE(v, n, d): what PREPARE and COMMIT refer to and what `executed`
 * events carry. cyrb53 over canonical JSON — collision resistance against an adversary would
 * need SHA-256 here too (see hmac-sha256.ts); the simulator's Byzantine replicas do not search
 * for collisions, so the cheaper digest keeps runs fast.
 */
export function commandDigest(cmd: Command): string {
  // Remembered: the PRE-PREPARE carrying `cmd` is MACed next, and its encoding contains it.
  return hash53(rememberCanonical(cmd)).toString(16).padStart(14, '0');
}

export const NULL_COMMAND: Command = { type: 'null' };
