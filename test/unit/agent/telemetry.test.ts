import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../src-node-agent/control/frames';
import { agentEventSchema } from '../../../src-node-agent/control/frames';
import { Telemetry } from '../../../src-node-agent/runtime/telemetry';

describe('telemetry', () => {
  it('reports ops, latency percentiles, link stats and rejections per interval, then resets', () => {
    let rejected = 3;
    const t = new Telemetry({
      interval_ms: 1000,
      emit: () => undefined,
      takeLinkStats: () => ({ n2: { sent: 5, received: 4, dropped: 1 } }),
      takeRejected: () => {
        const r = rejected;
        rejected = 0;
        return r;
      },
    });
    for (let i = 1; i <= 100; i++) t.recordLatency(i * 1000);
    const m = t.sample();
    expect(agentEventSchema.safeParse(m).success).toBe(true);
    expect(m).toMatchObject({ kind: 'metrics', ops: 100, rejected: 3, links: { n2: { sent: 5 } } });
    // HDR histogram with 3 significant digits: within 0.1 %.
    expect(m.latency_us?.count).toBe(100);
    expect(m.latency_us?.p50).toBeGreaterThanOrEqual(49_950);
    expect(m.latency_us?.p50).toBeLessThanOrEqual(50_050);
    expect(m.latency_us?.p99).toBeGreaterThanOrEqual(98_900);
    expect(m.latency_us?.max).toBeGreaterThanOrEqual(99_900);
    const next = t.sample();
    expect(next).toMatchObject({ ops: 0, latency_us: null, rejected: 0 });
    t.dispose();
  });

  it('emits on its interval until stopped', async () => {
    const seen: AgentEvent[] = [];
    const t = new Telemetry({
      interval_ms: 50,
      emit: (e) => seen.push(e),
      takeLinkStats: () => ({}),
      takeRejected: () => 0,
    });
    t.start();
    await new Promise((r) => setTimeout(r, 180));
    t.dispose();
    const n = seen.length;
    expect(n).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 120));
    expect(seen.length).toBe(n);
  });
});
