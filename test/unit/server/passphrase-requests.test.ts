import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiPush } from '../../../src-main/api/api-schema';
import {
  MAX_PENDING_PASSPHRASES,
  PASSPHRASE_TIMEOUT_MS,
  PassphraseRequests,
} from '../../../src-main/server/passphrase-requests';
import type { PushTarget } from '../../../src-main/server/push-target';

function page(): { target: PushTarget; pushes: ApiPush[] } {
  const pushes: ApiPush[] = [];
  return { target: { id: 'p', push: (m) => pushes.push(m), congested: () => false }, pushes };
}

function requestIdOf(push: ApiPush | undefined): string {
  if (push?.push !== 'passphrase-request')
    throw new Error(`not a question: ${JSON.stringify(push)}`);
  return push.requestId;
}

afterEach(() => vi.useRealTimers());

describe('passphrase questions to the page', () => {
  it('asks once per key and attempt, shares the answer, and closes the question', async () => {
    const { target, pushes } = page();
    const q = new PassphraseRequests(target);
    const a = q.ask('/k/id_ed25519', 1);
    const b = q.ask('/k/id_ed25519', 1);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatchObject({
      push: 'passphrase-request',
      keyPath: '/k/id_ed25519',
      attempt: 1,
    });
    q.answer(requestIdOf(pushes[0]), 'secret');
    expect(await a).toBe('secret');
    expect(await b).toBe('secret');
    expect(pushes[1]).toEqual({
      push: 'passphrase-request-closed',
      requestId: requestIdOf(pushes[0]),
    });
    expect(q.size).toBe(0);
    // A second attempt (the first passphrase was wrong) is a new question.
    const again = q.ask('/k/id_ed25519', 2);
    expect(pushes[2]).toMatchObject({ attempt: 2 });
    q.answer(requestIdOf(pushes[2]), null);
    expect(await again).toBeNull();
  });

  it('rejects an answer to no open question, naming why', () => {
    const q = new PassphraseRequests(page().target);
    expect(() => q.answer('nope', 'x')).toThrow(/no open passphrase question "nope"/);
  });

  it('cancels a question left unanswered, and every open one when the page goes away', async () => {
    vi.useFakeTimers();
    const { target } = page();
    const q = new PassphraseRequests(target);
    const late = q.ask('/k/a', 1);
    vi.advanceTimersByTime(PASSPHRASE_TIMEOUT_MS + 1);
    expect(await late).toBeNull();
    const open = q.ask('/k/b', 1);
    q.dispose();
    expect(await open).toBeNull();
    expect(await q.ask('/k/c', 1)).toBeNull();
  });

  it('bounds the open questions', async () => {
    const q = new PassphraseRequests(page().target);
    for (let i = 0; i < MAX_PENDING_PASSPHRASES; i++) void q.ask(`/k/${i}`, 1);
    await expect(q.ask('/k/one-more', 1)).rejects.toThrow(/already open/);
    q.dispose();
  });

  it("shows a run's open questions to a page that connects later, which can answer them", async () => {
    const first = page();
    const later = page();
    const runs = new PassphraseRequests(first.target, 'for runs');
    const asked = runs.ask('/k/id_ed25519', 1);
    const id = requestIdOf(first.pushes[0]);
    expect(runs.has(id)).toBe(true);
    runs.replayTo(later.target);
    expect(later.pushes).toEqual([first.pushes[0]]);
    runs.answer(id, 'secret');
    expect(await asked).toBe('secret');
    expect(runs.has(id)).toBe(false);
    // Answered: nothing is left to show the next page.
    const third = page();
    runs.replayTo(third.target);
    expect(third.pushes).toEqual([]);
    for (let i = 0; i < MAX_PENDING_PASSPHRASES; i++) void runs.ask(`/k/${i}`, 1);
    await expect(runs.ask('/k/one-more', 1)).rejects.toThrow(/already open for runs/);
    runs.dispose();
  });
});
