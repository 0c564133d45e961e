/** Something that holds a resource (timer, pty, subscription) and lets it go. */
export interface Disposable {
  dispose(): void;
}

/**
 * Disposables registered the moment they are created (VS Code's DisposableStore), released in
 * reverse order, each at most once; a failing dispose does not stop the others.
 */
export class DisposableStore implements Disposable {
  private readonly items = new Set<Disposable>();
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      item.dispose();
      return item;
    }
    this.items.add(item);
    return item;
  }

  delete(item: Disposable): void {
    this.items.delete(item);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  get size(): number {
    return this.items.size;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const all = Array.from(this.items).reverse();
    this.items.clear();
    for (const item of all) {
      try {
        item.dispose();
      } catch {
        // One failed release must not leak the rest.
      }
    }
  }
}

export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      fn();
    },
  };
}
