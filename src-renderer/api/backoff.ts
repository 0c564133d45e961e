/**
 * Reconnect delays: exponential from 250 ms, capped at 5 s, with ±20% jitter so that several
 * tabs of one orchestrator that lost it together do not all knock at the same instant.
 */
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_MS = 5_000;

export function reconnectDelay_ms(attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new Error(`reconnectDelay_ms: attempt must be a non-negative integer, got ${attempt}`);
  }
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  const jitter = 0.8 + 0.4 * random();
  return Math.round(Math.min(BACKOFF_MAX_MS, exponential * jitter));
}
