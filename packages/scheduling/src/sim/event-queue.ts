import { Heap } from '../framework/heap.js';

/** Future events in time order; ties in the order they were scheduled, so a replay is deterministic. */
export class EventQueue<T> {
  private sequence = 0;
  private readonly heap = new Heap<{ at: number; seq: number; event: T }>([], (a, b) => a.at - b.at || a.seq - b.seq);

  push(at: number, event: T): void {
    this.heap.push({ at, seq: this.sequence++, event });
  }

  get size(): number {
    return this.heap.size;
  }

  /** The time of the next event. */
  peekTime(): number | undefined {
    return this.heap.peek()?.at;
  }

  pop(): { at: number; event: T } | undefined {
    return this.heap.pop();
  }
}
