/**
 * Calls `fn` at most once per `interval_ms`, leading and trailing: the first request runs at
 * once, requests during the interval collapse into one run at its end.
 */
export interface Throttled {
  (): void;
  cancel(): void;
}

export function throttle(
  fn: () => void,
  interval_ms: number,
  now: () => number = () => performance.now(),
): Throttled {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = (): void => {
    timer = null;
    last = now();
    fn();
  };
  const throttled = (() => {
    if (timer !== null) return;
    const wait = last + interval_ms - now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  }) as Throttled;
  throttled.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return throttled;
}
