/** A FIFO async lock: SQLite's one writer, taken without blocking the event loop. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves with the unlock function once every earlier holder has unlocked. */
  lock(): Promise<() => void> {
    let unlock!: () => void;
    const next = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    const acquired = this.#tail.then(() => unlock);
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }
}
