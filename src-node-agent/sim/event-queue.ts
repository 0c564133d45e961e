/**
 * A binary min-heap of scheduled simulator events ordered by (time, insertion sequence). The
 * sequence number breaks ties deterministically: two events at the same virtual microsecond
 * always run in the order they were scheduled.
 */
export interface Scheduled {
  at_us: number;
  seq: number;
}

export class EventQueue<T extends Scheduled> {
  private readonly heap: T[] = [];
  private nextSeq = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.heap.length;
  }

  /** Stamps `item.seq` and inserts it. Throws when the queue is full: a run that schedules
   * this much is itself a bug (a message storm), and silently dropping would hide it. */
  push(item: T): void {
    if (this.heap.length >= this.capacity) {
      throw new Error(
        `simulator event queue is full (${this.capacity} events): a message storm or timer leak; ` +
          'look at the tail of the event log',
      );
    }
    item.seq = this.nextSeq++;
    const heap = this.heap;
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as T;
      if (p.at_us < item.at_us || (p.at_us === item.at_us && p.seq < item.seq)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  peekTime(): number {
    const top = this.heap[0];
    return top === undefined ? Number.POSITIVE_INFINITY : top.at_us;
  }

  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      const lc = heap[l] as T;
      if (r < n) {
        const rc = heap[r] as T;
        if (rc.at_us < lc.at_us || (rc.at_us === lc.at_us && rc.seq < lc.seq)) c = r;
      }
      const child = heap[c] as T;
      if (last.at_us < child.at_us || (last.at_us === child.at_us && last.seq < child.seq)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}
