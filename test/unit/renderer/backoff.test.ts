import { describe, expect, it } from 'vitest';
import { BACKOFF_MAX_MS, reconnectDelay_ms } from '../../../src-renderer/api/backoff';

describe('reconnect backoff', () => {
  it('doubles from 250 ms and caps at 5 s, with ±20% jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 30].map((a) => reconnectDelay_ms(a, mid))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
    expect(reconnectDelay_ms(2, () => 0)).toBe(800);
    expect(reconnectDelay_ms(2, () => 0.999999)).toBe(1200);
    expect(reconnectDelay_ms(10, () => 0.999999)).toBe(BACKOFF_MAX_MS);
  });

  it('refuses nonsense attempts', () => {
    expect(() => reconnectDelay_ms(-1)).toThrow(/non-negative/);
    expect(() => reconnectDelay_ms(1.5)).toThrow(/non-negative/);
  });
});
