import type { MessageTrace } from '../../api/api-schema';
import type { RunRecord } from '../../record/schema';

/** One agent `message` trace event, with where and when it was recorded. */
export interface MessageEvent {
  readonly t_ms: number;
  /** The node whose agent emitted the event. */
  readonly node: string;
  readonly dir: 'send' | 'recv' | 'drop';
  readonly peer: string;
  readonly type: string;
  readonly mid: string;
}

/** The message event in an `agent` record, or null when it is something else. */
export function messageEventOf(record: RunRecord): MessageEvent | null {
  if (record.type !== 'agent') return null;
  const e = record.event as Record<string, unknown>;
  if (e['kind'] !== 'message') return null;
  const dir = e['dir'];
  if (dir !== 'send' && dir !== 'recv' && dir !== 'drop') return null;
  if (typeof e['peer'] !== 'string' || typeof e['mid'] !== 'string') return null;
  return {
    t_ms: record.t_ms,
    node: record.node,
    dir,
    peer: e['peer'],
    type: typeof e['type'] === 'string' ? e['type'] : '?',
    mid: e['mid'],
  };
}

/** A `message-trace-dropped` summary: the agent's trace has a gap here. */
export function isTraceGap(record: RunRecord): boolean {
  return (
    record.type === 'agent' &&
    (record.event as Record<string, unknown>)['kind'] === 'message-trace-dropped'
  );
}

export interface PairedWindow {
  readonly messages: MessageTrace[];
  readonly truncated: boolean;
}

/**
 * Pairs send/recv/drop events by `mid` (`<sender>.<incarnation>.<counter>`, so the sender is
 * the mid's first component) into messages, keeping those whose send or receipt falls in
 * [from_ms, to_ms], at most `limit`, in send order. A drop on the sender (its link filter
 * refused to send) and a drop on the receiver (its filter refused to deliver) both mark the
 * message dropped.
 */
export function pairMessages(
  events: Iterable<MessageEvent>,
  from_ms: number,
  to_ms: number,
  limit: number,
): PairedWindow {
  const byMid = new Map<string, MessageTrace>();
  for (const e of events) {
    let m = byMid.get(e.mid);
    const outgoing = e.dir === 'send' || (e.dir === 'drop' && e.mid.startsWith(`${e.node}.`));
    if (m === undefined) {
      m = {
        mid: e.mid,
        from: outgoing ? e.node : e.peer,
        to: outgoing ? e.peer : e.node,
        type: e.type,
        sent_ms: null,
        received_ms: null,
        dropped: false,
      };
      byMid.set(e.mid, m);
    }
    if (e.dir === 'send') m.sent_ms = e.t_ms;
    else if (e.dir === 'recv') m.received_ms = e.t_ms;
    else {
      m.dropped = true;
      if (outgoing && m.sent_ms === null) m.sent_ms = e.t_ms;
    }
  }
  const inWindow = (t: number | null): boolean => t !== null && t >= from_ms && t <= to_ms;
  const selected: MessageTrace[] = [];
  for (const m of byMid.values()) {
    if (inWindow(m.sent_ms) || inWindow(m.received_ms)) selected.push(m);
  }
  const key = (m: MessageTrace): number => m.sent_ms ?? m.received_ms ?? 0;
  selected.sort((a, b) => key(a) - key(b) || (a.mid < b.mid ? -1 : 1));
  return { messages: selected.slice(0, limit), truncated: selected.length > limit };
}

/** The most recent message events of a live run: a fixed-size ring, oldest overwritten. */
export class MessageRing {
  private readonly items: (MessageEvent | undefined)[];
  private next = 0;
  private count = 0;
  /** Trace gaps (`message-trace-dropped`) seen, and events pushed out of the ring. */
  gaps = 0;
  overwritten = 0;

  constructor(readonly capacity = 200_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`MessageRing capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<MessageEvent | undefined>(capacity);
  }

  push(e: MessageEvent): void {
    if (this.count === this.capacity) this.overwritten++;
    this.items[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Oldest first. */
  *events(): IterableIterator<MessageEvent> {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const e = this.items[(start + i) % this.capacity];
      if (e !== undefined) yield e;
    }
  }

  /** Time of the oldest event still held (messages before it are gone), or null. */
  oldest_ms(): number | null {
    for (const e of this.events()) return e.t_ms;
    return null;
  }
}
