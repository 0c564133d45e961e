import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Mutual authentication of one peer connection with the per-run secret, challenge–response
 * in both directions so neither side ever sends the secret or a replayable proof:
 *
 *   acceptor → dialer   {t:'challenge', nonce: Na}
 *   dialer   → acceptor {t:'auth', from, runId, nonce: Nd, mac: HMAC(s, dial|run|from|to|Na)}
 *   acceptor → dialer   {t:'auth-ok', mac: HMAC(s, accept|run|to|from|Nd)}
 *
 * `to` is the acceptor's node id: the dialer's proof names whom it meant to reach, and the
 * acceptor's proof names who it is, so a connection cannot be redirected to another node.
 */
export const HANDSHAKE_TIMEOUT_MS = 2_000;
/** Handshake frames are tiny; a bigger one before authentication is an attack or a bug. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4_096;

const nonce = z.string().regex(/^[0-9a-f]{32}$/);
const mac = z.string().regex(/^[0-9a-f]{64}$/);
const nodeId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/);

export const challengeFrameSchema = z.object({ t: z.literal('challenge'), nonce }).strict();
export const authFrameSchema = z
  .object({ t: z.literal('auth'), from: nodeId, runId: z.string().max(128), nonce, mac })
  .strict();
export const authOkFrameSchema = z.object({ t: z.literal('auth-ok'), mac }).strict();

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function dialerMac(
  secret: Buffer,
  runId: string,
  from: string,
  to: string,
  acceptorNonce: string,
): string {
  return hmac(secret, `dial|${runId}|${from}|${to}|${acceptorNonce}`);
}

export function acceptorMac(
  secret: Buffer,
  runId: string,
  to: string,
  from: string,
  dialerNonce: string,
): string {
  return hmac(secret, `accept|${runId}|${to}|${from}|${dialerNonce}`);
}

/** Constant-time comparison of two hex MACs (false for malformed input, never a throw). */
export function macEquals(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, 'hex');
  const b = Buffer.from(givenHex, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

function hmac(secret: Buffer, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}
