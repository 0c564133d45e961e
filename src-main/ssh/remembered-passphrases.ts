import type { AskPassphrase } from './ssh-auth';

/** How long an answer is reused: long enough for one run's connects, not for the whole run. */
export const REMEMBER_PASSPHRASE_MS = 60_000;

/**
 * One question per key for a burst of connects: a testbed opens several connections to every
 * host (and to several hosts with the same key), each loading its key. Concurrent asks for a
 * key share one question; an answer is reused for a first attempt of the same key for
 * `remember_ms`, then forgotten (the timer drops it). A reused answer that turns out wrong
 * makes the connection ask again (attempt 2), which goes to the person.
 */
export function rememberPassphrases(
  ask: AskPassphrase,
  remember_ms = REMEMBER_PASSPHRASE_MS,
): AskPassphrase {
  const answers = new Map<string, { value: string; timer: NodeJS.Timeout }>();
  const asking = new Map<string, Promise<string | null>>();
  return async (keyPath, attempt) => {
    const known = answers.get(keyPath);
    if (attempt === 1 && known !== undefined) return known.value;
    const question = `${attempt}\0${keyPath}`;
    let pending = asking.get(question);
    if (pending === undefined) {
      pending = ask(keyPath, attempt).finally(() => asking.delete(question));
      asking.set(question, pending);
    }
    const value = await pending;
    if (value !== null) {
      const old = answers.get(keyPath);
      if (old !== undefined) clearTimeout(old.timer);
      const timer = setTimeout(() => answers.delete(keyPath), remember_ms);
      timer.unref();
      answers.set(keyPath, { value, timer });
    }
    return value;
  };
}
