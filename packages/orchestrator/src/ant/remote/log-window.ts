/**
 * The highest log batch a queen stored per assignment, shared by every connection of its ants: a
 * batch re-sent after its acknowledgement was lost (on the same connection, or on the next one
 * after a reconnect) is acknowledged without being stored again. An ant sends an attempt's batches
 * in order and re-sends the unacknowledged ones in order, so one number per assignment decides.
 * Bounded: past `max` assignments the one written longest ago is forgotten (an attempt still
 * sending logs is written recently); an assignment's entry goes with its result.
 */
export class LogBatchWindow {
  private readonly highest = new Map<string, number>();

  constructor(readonly max = 10_000) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`the log batch window must hold at least 1 assignment, got ${max}`);
  }

  /** Whether `batch` of `assignmentId` has not been stored yet. */
  fresh(assignmentId: string, batch: number): boolean {
    return batch > (this.highest.get(assignmentId) ?? -1);
  }

  stored(assignmentId: string, batch: number): void {
    // Re-inserted, so the map's order is least recently written first.
    this.highest.delete(assignmentId);
    this.highest.set(assignmentId, batch);
    if (this.highest.size > this.max) this.highest.delete(this.highest.keys().next().value!);
  }

  forget(assignmentId: string): void {
    this.highest.delete(assignmentId);
  }

  get size(): number {
    return this.highest.size;
  }
}
