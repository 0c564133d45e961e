import type { MessageTrace } from '../../src-main/api/api-schema';

/**
 * The space-time (Lamport) diagram's geometry: one vertical lifeline per node, time flowing
 * down, one arrow per message from (sender, sent) to (receiver, received). A dropped message
 * ends in an X halfway to its receiver, slightly after its send time; a message whose receive
 * was not seen (in flight, or its receive fell outside the fetched messages) is a short dashed
 * stub toward its receiver, so it does not pose as a delivery at the window's end.
 */
export interface FlowArrow {
  readonly mid: string;
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly kind: 'delivered' | 'dropped' | 'in-flight';
  readonly sent_ms: number | null;
  readonly received_ms: number | null;
}

export interface FlowLayout {
  readonly lanes: { node: string; x: number }[];
  readonly arrows: FlowArrow[];
  readonly ticks: { y: number; t_ms: number }[];
  readonly width: number;
  readonly height: number;
}

export const FLOW_TOP = 36;
const FLOW_SIDE = 60;
const DROP_SLANT_MS_FRACTION = 0.02;
const IN_FLIGHT_STUB_FRACTION = 0.3;

export function layoutMessageFlow(
  nodes: readonly string[],
  messages: readonly MessageTrace[],
  from_ms: number,
  to_ms: number,
  width: number,
  height: number,
): FlowLayout {
  const span = Math.max(1, to_ms - from_ms);
  const usable = height - FLOW_TOP - 12;
  const yOf = (t: number): number =>
    FLOW_TOP + ((Math.min(Math.max(t, from_ms), to_ms) - from_ms) / span) * usable;
  const names = [...nodes];
  for (const m of messages) {
    if (!names.includes(m.from)) names.push(m.from);
    if (!names.includes(m.to)) names.push(m.to);
  }
  const step = names.length > 1 ? (width - 2 * FLOW_SIDE) / (names.length - 1) : 0;
  const lanes = names.map((node, i) => ({
    node,
    x: names.length > 1 ? FLOW_SIDE + i * step : width / 2,
  }));
  const xOf = new Map(lanes.map((l) => [l.node, l.x]));
  const arrows: FlowArrow[] = [];
  for (const m of messages) {
    const x1 = xOf.get(m.from) ?? 0;
    const xTo = xOf.get(m.to) ?? 0;
    const sent = m.sent_ms ?? m.received_ms ?? from_ms;
    const y1 = yOf(sent);
    let kind: FlowArrow['kind'];
    let x2: number;
    let y2: number;
    if (m.dropped) {
      kind = 'dropped';
      x2 = x1 + (xTo - x1) / 2;
      y2 = yOf(sent + span * DROP_SLANT_MS_FRACTION);
    } else if (m.received_ms === null) {
      kind = 'in-flight';
      x2 = x1 + (xTo - x1) * IN_FLIGHT_STUB_FRACTION;
      y2 = yOf(sent + span * DROP_SLANT_MS_FRACTION);
    } else {
      kind = 'delivered';
      x2 = xTo;
      y2 = yOf(m.received_ms);
    }
    arrows.push({
      mid: m.mid,
      type: m.type,
      from: m.from,
      to: m.to,
      x1,
      y1,
      x2,
      y2,
      kind,
      sent_ms: m.sent_ms,
      received_ms: m.received_ms,
    });
  }
  return { lanes, arrows, ticks: timeTicks(from_ms, to_ms, yOf), width, height };
}

/** Round-numbered time ticks (1, 2, 5 × 10^k ms) for the left axis, about 8 of them. */
export function timeTicks(
  from_ms: number,
  to_ms: number,
  yOf: (t: number) => number,
): { y: number; t_ms: number }[] {
  const span = Math.max(1, to_ms - from_ms);
  const raw = span / 8;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: { y: number; t_ms: number }[] = [];
  for (let t = Math.ceil(from_ms / step) * step; t <= to_ms; t += step) {
    ticks.push({ y: yOf(t), t_ms: t });
  }
  return ticks;
}

/** "15.85 s": as many decimals as the window's span needs for distinct tick labels. */
export function tickLabel(t_ms: number, span_ms: number): string {
  const decimals = span_ms <= 1_000 ? 2 : span_ms <= 10_000 ? 1 : 0;
  return `${(t_ms / 1000).toFixed(decimals)} s`;
}

/** Above this many arrows the diagram is painted on a canvas instead of built from SVG nodes. */
export const SVG_ARROW_LIMIT = 800;
