import type { Executor } from '../executors/executor.js';
import { PidLedger } from './pid-ledger.js';
import { type AntDescriptor, type AntMessage, type Assignment, type ProgressLog, type QueenMessage, stopReason } from './protocol.js';
import { runAttempt } from './run-attempt.js';

export interface EmbeddedAntOptions {
  readonly descriptor: AntDescriptor;
  readonly executors: ReadonlyMap<string, Executor>;
  readonly send: (message: AntMessage) => void;
  readonly heartbeatMs?: number;
  /** Where the ant notes its tasks' process groups (default: a folder in the OS temp dir). */
  readonly pidLedger?: PidLedger;
}

interface Running {
  readonly controller: AbortController;
  done: Promise<void>;
  pending: ProgressLog[];
  pid?: number;
  flushQueued: boolean;
}

/**
 * An ant living in the queen's process. It speaks only the protocol: assignments in, progress and
 * results out, so swapping it for a remote ant changes the transport, not the queen.
 */
export class EmbeddedAnt {
  readonly descriptor: AntDescriptor;
  private readonly executors: ReadonlyMap<string, Executor>;
  private readonly send: (message: AntMessage) => void;
  private readonly running = new Map<string, Running>();
  private heartbeat?: NodeJS.Timeout;
  private readonly ledger: PidLedger;

  constructor(options: EmbeddedAntOptions) {
    this.descriptor = options.descriptor;
    this.executors = options.executors;
    this.send = options.send;
    this.ledger = options.pidLedger ?? new PidLedger();
    // Processes an ant on this machine left when it died (kill -9) are killed before new work starts.
    this.ledger.sweep();
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs ?? 5000);
    this.heartbeat.unref();
  }

  /** Announces the ant to the queen; call once its transport is connected. */
  register(): void {
    this.send({ type: 'register', ant: this.descriptor });
  }

  private beat(): void {
    this.send({ type: 'heartbeat', antId: this.descriptor.id, running: this.running.size, at: Date.now() });
  }

  receive(message: QueenMessage): void {
    if (message.type === 'assign') this.start(message.assignment);
    else this.running.get(message.assignmentId)?.controller.abort(stopReason(message));
  }

  private start(assignment: Assignment): void {
    const controller = new AbortController();
    const entry: Running = { controller, done: Promise.resolve(), pending: [], flushQueued: false };
    this.running.set(assignment.id, entry);
    const flush = () => {
      entry.flushQueued = false;
      if (entry.pending.length === 0 && entry.pid === undefined) return;
      const logs = entry.pending;
      entry.pending = [];
      const pid = entry.pid;
      entry.pid = undefined;
      this.send({ type: 'progress', antId: this.descriptor.id, assignmentId: assignment.id, logs, ...(pid === undefined ? {} : { pid }) });
    };
    entry.done = runAttempt({
      antId: this.descriptor.id,
      assignment,
      executors: this.executors,
      signal: controller.signal,
      ledger: this.ledger,
      log: (line) => {
        entry.pending.push(line);
        // Lines are batched per turn of the event loop: one store transaction per burst, not per line.
        if (entry.flushQueued) return;
        entry.flushQueued = true;
        setImmediate(flush);
      },
      started: (pid) => {
        entry.pid = pid;
        flush();
      },
    }).then(({ result, outputs }) => {
      flush();
      this.running.delete(assignment.id);
      this.send({ type: 'result', antId: this.descriptor.id, assignmentId: assignment.id, result, outputs });
    });
  }

  /**
   * Waits up to `graceMs` for running attempts, then calls `beforeAbort`, aborts the rest with
   * `reason` and waits for them.
   */
  async drain(graceMs: number, reason: string, beforeAbort: () => void = () => {}): Promise<void> {
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const finished = await Promise.race([all().then(() => false), timedOut]);
    clearTimeout(timer);
    if (finished) {
      beforeAbort();
      for (const entry of this.running.values()) entry.controller.abort(reason);
      await all();
    }
    clearInterval(this.heartbeat);
  }
}
