import { build, type Histogram } from 'hdr-histogram-js';
import type { AgentEvent } from '../control/frames';
import type { LinkStats } from './peer-stats';

/** Latencies above this (one hour, in µs) are clamped: a histogram needs a ceiling. */
export const MAX_TRACKED_LATENCY_US = 3_600_000_000;

export interface TelemetrySources {
  readonly interval_ms: number;
  readonly emit: (event: AgentEvent) => void;
  /** Per-link counts since the previous call (PeerTransport.takeLinkStats). */
  readonly takeLinkStats: () => Record<string, LinkStats>;
  /** Rejected inputs since the previous call. */
  readonly takeRejected: () => number;
}

type MetricsEvent = Extract<AgentEvent, { kind: 'metrics' }>;

/**
 * Every `interval_ms`, one `metrics` event: operations completed, their latency percentiles
 * (an HDR histogram in µs, 3 significant digits, reset each interval), per-link message
 * counts and rejected inputs. Fixed memory however high the rate.
 */
export class Telemetry {
  private readonly histogram: Histogram;
  private ops = 0;
  private timer: NodeJS.Timeout | null = null;
  private last_ms = performance.now();

  constructor(private readonly sources: TelemetrySources) {
    this.histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: MAX_TRACKED_LATENCY_US,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
    });
  }

  /** One completed client operation and its latency. */
  recordLatency(latency_us: number): void {
    this.ops++;
    const v = Math.min(MAX_TRACKED_LATENCY_US, Math.max(1, Math.round(latency_us)));
    this.histogram.recordValue(v);
  }

  start(): void {
    if (this.timer !== null) return;
    this.last_ms = performance.now();
    this.timer = setInterval(() => this.sources.emit(this.sample()), this.sources.interval_ms);
  }

  /** The metrics of the interval since the previous sample; resets the counters. */
  sample(): MetricsEvent {
    const now = performance.now();
    const h = this.histogram;
    const latency_us =
      h.totalCount === 0
        ? null
        : {
            count: h.totalCount,
            p50: h.getValueAtPercentile(50),
            p95: h.getValueAtPercentile(95),
            p99: h.getValueAtPercentile(99),
            max: h.maxValue,
          };
    const event: MetricsEvent = {
      kind: 'metrics',
      interval_ms: Math.round((now - this.last_ms) * 1000) / 1000,
      ops: this.ops,
      latency_us,
      links: this.sources.takeLinkStats(),
      rejected: this.sources.takeRejected(),
    };
    h.reset();
    this.ops = 0;
    this.last_ms = now;
    return event;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  dispose(): void {
    this.stop();
    this.histogram.destroy();
  }
}
