import { describe, expect, it } from 'vitest';
import { FrameCoalescer } from '../../../src-renderer/lib/frame-coalescer';
import { createRunViewHolder } from '../../../src-renderer/stores/run-view-holder';
import { crash, emptySnapshot, metrics } from './records';

/** A manual frame clock: the test decides when a frame happens. */
function frames() {
  const queue = new Map<number, () => void>();
  let next = 1;
  return {
    request: (cb: () => void) => {
      queue.set(next, cb);
      return next++;
    },
    cancel: (h: number) => void queue.delete(h),
    tick: () => {
      const due = [...queue.values()];
      queue.clear();
      for (const cb of due) cb();
    },
    pending: () => queue.size,
  };
}

describe('frame coalescing', () => {
  it('runs the callback once per frame however often it is requested', () => {
    const clock = frames();
    let calls = 0;
    const c = new FrameCoalescer(() => calls++, clock.request, clock.cancel);
    for (let i = 0; i < 1_000; i++) c.request();
    expect(clock.pending()).toBe(1);
    clock.tick();
    expect(calls).toBe(1);
    c.request();
    c.dispose();
    clock.tick();
    expect(calls).toBe(1);
  });

  it('folds 10,000 records into the view but bumps the version once per frame', () => {
    const clock = frames();
    const holder = createRunViewHolder(clock.request, clock.cancel);
    holder.reset(emptySnapshot());
    const afterReset = holder.version.value;
    for (let batch = 0; batch < 10; batch++) {
      const records = Array.from({ length: 1_000 }, (_, i) =>
        metrics('w1', batch * 1_000 + i, 4, i),
      );
      holder.apply(records);
    }
    holder.apply([crash('n2', 10_500)]);
    expect(holder.version.value).toBe(afterReset);
    clock.tick();
    expect(holder.version.value).toBe(afterReset + 1);
    const view = holder.view.value!;
    expect(view.recordsFolded).toBe(10_001);
    expect(view.nodeList().find((n) => n.id === 'n2')?.status).toBe('crashed');
    expect(view.faultPeriods()).toHaveLength(1);
    holder.dispose();
  });
});
