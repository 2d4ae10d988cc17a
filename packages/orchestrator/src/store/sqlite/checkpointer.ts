import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's whole program: its own connection to the file and one PASSIVE checkpoint per request.
 * Inline (eval) rather than a file of its own, so it starts the same from the sources and from dist/,
 * without the parent's loaders.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
// Never wait: a checkpoint another connection or process is running already does the work.
db.pragma('busy_timeout = 0');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ busy: row.busy, checkpointed: row.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
});
`;

export interface CheckpointStats {
  /** Checkpoints run to completion by the background connection. */
  readonly checkpoints: number;
  /** WAL frames copied back into the database file by them. */
  readonly frames: number;
}

type Reply = { readonly busy: number; readonly checkpointed: number } | { readonly error: string };

/**
 * Copies a WAL-mode SQLite file's log back into the database from a worker thread, so the store's
 * connection never does it. SQLite's automatic checkpoint runs inside whichever COMMIT crosses its
 * threshold, on the committing thread: with `synchronous = NORMAL` that commit also waits for the
 * database file's fsync, which was the slowest 1% of submits (p99 4.3 ms against 1.1 ms without it,
 * 1,000 submits at 100/s). The store turns the automatic checkpoint off (`wal_autocheckpoint = 0`)
 * and calls `written()` after each commit; a checkpoint runs at most every `minIntervalMs` while
 * there are writes, PASSIVE so it never blocks a writer or a reader. If the worker cannot run
 * (`onUnavailable`), the store turns the automatic checkpoint back on.
 */
export class BackgroundCheckpointer {
  private worker?: Worker;
  private inFlight = false;
  private lastAt = Number.NEGATIVE_INFINITY;
  private closing?: Promise<void>;
  private counts = { checkpoints: 0, frames: 0 };

  constructor(
    private readonly file: string,
    private readonly onUnavailable: (reason: string) => void,
    private readonly minIntervalMs = 50,
  ) {}

  get stats(): CheckpointStats {
    return { ...this.counts };
  }

  /**
   * After a commit: asks for a checkpoint unless one runs or ran less than `minIntervalMs` ago. What
   * that leaves in the log waits for the next commit's call (the log is as durable as the file).
   */
  written(): void {
    if (this.closing || this.inFlight || performance.now() - this.lastAt < this.minIntervalMs) return;
    this.inFlight = true;
    // Started at the first commit: a store opened only to read, or for a moment, costs no thread.
    this.worker ??= this.spawn();
    this.worker.postMessage('checkpoint');
  }

  /** Closes the background connection (the last one to close removes the WAL file). */
  close(): Promise<void> {
    const worker = this.worker;
    this.closing ??=
      worker === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            // Held open until it has gone, or a process with nothing else to do would exit first, mid-await.
            worker.ref();
            worker.postMessage('close');
          });
    return this.closing;
  }

  private replied(reply: Reply): void {
    if ('error' in reply) {
      this.unavailable(reply.error);
      return;
    }
    this.inFlight = false;
    this.lastAt = performance.now();
    if (reply.busy === 0) this.counts.checkpoints++;
    this.counts.frames += Math.max(0, reply.checkpointed);
  }

  private unavailable(reason: string): void {
    if (this.closing) return;
    this.closing = (this.worker?.terminate() ?? Promise.resolve()).then(() => undefined);
    this.onUnavailable(reason);
  }

  /** Messages posted before the worker listens wait for it, so the first checkpoint needs no handshake. */
  private spawn(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver }, execArgv: [] });
    // A queen that forgets to close its store must still be able to exit.
    worker.unref();
    worker.on('message', (reply: Reply) => this.replied(reply));
    worker.on('error', (error) => this.unavailable(error.message));
    worker.on('exit', (code) => this.unavailable(`the checkpoint thread exited with code ${code}`));
    return worker;
  }
}
