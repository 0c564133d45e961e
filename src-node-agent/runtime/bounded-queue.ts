/**
 * A FIFO with a hard limit that drops its OLDEST item when full: for network sends the
 * newest message is the one most likely to still matter (a newer heartbeat supersedes an
 * older one), and a stalled peer must never make the sender buffer without bound.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  /** Items dropped because the queue was full, since creation. */
  dropped = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new Error(`BoundedQueue limit must be a positive integer, got ${String(limit)}`);
    }
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Append; returns false when the oldest item had to be dropped to make room. */
  push(item: T): boolean {
    let kept = true;
    if (this.length >= this.limit) {
      this.shift();
      this.dropped++;
      kept = false;
    }
    this.items.push(item);
    return kept;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    // Compact once the consumed prefix dominates, so memory follows the live length.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
