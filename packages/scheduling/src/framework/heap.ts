/** A binary min-heap: built in O(n), so a pass over 100,000 jobs never sorts them all to take a few. */
export class Heap<T> {
  private readonly items: T[];

  constructor(
    items: T[],
    private readonly before: (a: T, b: T) => number,
  ) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(items[i]!, items[parent]!) >= 0) return;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Takes every item, in no order: O(1), where popping them all compares O(n log n) times. */
  drain(): T[] {
    return this.items.splice(0);
  }

  private down(start: number): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.before(items[right]!, items[left]!) < 0 ? right : left;
      if (this.before(items[child]!, items[i]!) >= 0) return;
      [items[i], items[child]] = [items[child]!, items[i]!];
      i = child;
    }
  }
}

/** A queue already in order (the store's ORDER BY): taking from it is O(1) and nothing is sorted. */
export class Ordered<T> {
  private next = 0;

  constructor(private readonly items: readonly T[]) {}

  get size(): number {
    return this.items.length - this.next;
  }

  peek(): T | undefined {
    return this.items[this.next];
  }

  pop(): T | undefined {
    return this.next < this.items.length ? this.items[this.next++] : undefined;
  }

  drain(): T[] {
    const rest = this.items.slice(this.next);
    this.next = this.items.length;
    return rest;
  }
}
