import { afterEach, describe, expect, it, vi } from 'vitest';
import { rememberPassphrases } from '../../../src-main/ssh/remembered-passphrases';

afterEach(() => vi.useRealTimers());

describe('one passphrase question per key for a burst of connects', () => {
  it('shares a question between concurrent connects and reuses the answer for a while', async () => {
    vi.useFakeTimers();
    const asked: string[] = [];
    let answer: (v: string | null) => void = () => undefined;
    const ask = rememberPassphrases((key, attempt) => {
      asked.push(`${key}#${attempt}`);
      return new Promise((r) => (answer = r));
    }, 1_000);
    const a = ask('/k/id', 1);
    const b = ask('/k/id', 1);
    await Promise.resolve();
    answer('pw');
    expect(await a).toBe('pw');
    expect(await b).toBe('pw');
    expect(await ask('/k/id', 1)).toBe('pw');
    expect(asked).toEqual(['/k/id#1']);
    // Forgotten after its time: asked again.
    vi.advanceTimersByTime(1_001);
    const c = ask('/k/id', 1);
    await Promise.resolve();
    answer('pw2');
    expect(await c).toBe('pw2');
    expect(asked).toEqual(['/k/id#1', '/k/id#1']);
  });

  it('asks the person again when a reused answer was wrong (attempt 2), and per key', async () => {
    const asked: string[] = [];
    const ask = rememberPassphrases((key, attempt) => {
      asked.push(`${key}#${attempt}`);
      return Promise.resolve(attempt === 1 ? 'old' : 'new');
    });
    expect(await ask('/k/a', 1)).toBe('old');
    expect(await ask('/k/a', 2)).toBe('new');
    // The newest answer is the one reused.
    expect(await ask('/k/a', 1)).toBe('new');
    expect(await ask('/k/b', 1)).toBe('old');
    expect(asked).toEqual(['/k/a#1', '/k/a#2', '/k/b#1']);
  });

  it('does not remember a cancel', async () => {
    let calls = 0;
    const ask = rememberPassphrases(() => Promise.resolve(++calls === 1 ? null : 'pw'));
    expect(await ask('/k/a', 1)).toBeNull();
    expect(await ask('/k/a', 1)).toBe('pw');
  });
});
