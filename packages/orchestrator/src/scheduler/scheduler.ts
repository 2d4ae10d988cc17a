import type { Logger } from 'pino';
import type { AntRegistry } from '../ant/registry.js';
import type { JobDefinition } from '../definition/model.js';
import type { Supervisor } from '../engine/supervisor.js';
import type { JobStore, ReadyTask } from '../store/store.js';
import { type AntSlot, canRun, type SchedulingPolicy } from './policy.js';

export interface SchedulerOptions {
  readonly store: JobStore;
  readonly supervisor: Supervisor;
  readonly ants: AntRegistry;
  readonly policy: SchedulingPolicy;
  readonly definition: (jobType: string, version: number) => Promise<JobDefinition>;
  /** Claims the task for the ant and sends it the assignment. */
  readonly startTask: (task: ReadyTask, ant: AntSlot) => Promise<void>;
  readonly logger: Logger;
  /** The longest the scheduler sleeps without a reason to wake (a safety net; work pokes it). */
  readonly pollIntervalMs?: number;
  /** Jobs admitted per pass; more passes follow at once while jobs are due. */
  readonly admitBatch?: number;
}

/**
 * The job scheduler: admits due jobs (priority, submission time, scheduled_at, max_concurrency)
 * and starts READY tasks on ants with free capacity. One pass at a time; `poke` asks for another.
 */
export class Scheduler {
  private running = false;
  private pass?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private readonly pollIntervalMs: number;
  private readonly admitBatch: number;

  constructor(private readonly options: SchedulerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.admitBatch = options.admitBatch ?? 500;
  }

  start(): void {
    this.running = true;
    this.poke();
  }

  /** Stops starting work; resolves when the current pass is over. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  poke(): void {
    if (!this.running) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.pass = this.loop().finally(() => {
      this.pass = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        if (await this.once()) this.again = true;
      } catch (error) {
        this.options.logger.error({ err: error }, 'scheduler pass failed');
      }
    } while (this.again && this.running);
    if (!this.running) return;
    const wake = await this.options.store.nextWakeAt().catch(() => undefined);
    const delay = wake === undefined ? this.pollIntervalMs : Math.min(Math.max(wake - Date.now(), 0), this.pollIntervalMs);
    this.timer = setTimeout(() => this.poke(), delay);
  }

  /** One pass; true when it stopped early and more work is due at once. */
  private async once(): Promise<boolean> {
    const { store, supervisor } = this.options;
    const now = Date.now();
    for (const job of await store.expiredJobs(now)) await supervisor.timeout(job.id);
    const moreDue = await this.admit(now);
    await this.dispatch(now);
    return moreDue;
  }

  /**
   * Admits due jobs in policy order, a page at a time. Jobs held back by max_concurrency stay
   * PENDING and are paged past, so a long queue of one capped type cannot starve the others.
   * True when it stopped after a full batch of admissions and more may be due.
   */
  private async admit(now: number): Promise<boolean> {
    const { store, supervisor, policy } = this.options;
    const active = new Map(await store.activeJobsByType());
    let heldBack = 0;
    let admitted = 0;
    for (;;) {
      // Admitted jobs leave PENDING, so the jobs before the next page are exactly those held back.
      const due = await store.duePendingJobs(now, this.admitBatch, heldBack);
      for (const job of policy.orderJobs(due, now)) {
        if (!this.running) return false;
        const definition = await this.options.definition(job.jobType, job.version);
        const count = active.get(job.jobType) ?? 0;
        if (definition.maxConcurrency === undefined || count < definition.maxConcurrency) {
          if (await supervisor.admit(job.id)) {
            active.set(job.jobType, count + 1);
            admitted++;
            continue;
          }
        }
        heldBack++;
      }
      if (due.length < this.admitBatch) return false;
      if (admitted >= this.admitBatch) return true;
    }
  }

  /**
   * Starts READY tasks on ants with a free slot, a page at a time until the slots are used or the
   * ready tasks are exhausted, so tasks no ant can take (a missing method or tag) do not block
   * the runnable ones behind them.
   */
  private async dispatch(now: number): Promise<void> {
    const { store, ants, policy } = this.options;
    let free = ants.freeSlots();
    let passedOver = 0;
    while (free > 0 && this.running) {
      const page = free + 64;
      // Started tasks leave READY, so the tasks before the next page are exactly those passed over.
      const ready = await store.readyTasks(now, page, passedOver);
      for (const task of policy.orderTasks(ready, now)) {
        if (free === 0 || !this.running) return;
        if (await this.place(task)) free = ants.freeSlots();
        else passedOver++;
      }
      if (ready.length < page) return;
    }
  }

  /** Starts the task on an ant the policy picks among those able to take it; false when none is. */
  private async place(task: ReadyTask): Promise<boolean> {
    const { ants, policy } = this.options;
    const definition = await this.options.definition(task.jobType, task.version);
    const taskDefinition = definition.tasks.find((t) => t.taskType === task.taskType);
    if (!taskDefinition) return false;
    const placement = { ...task, method: taskDefinition.method, tags: [...new Set([...definition.tags, ...taskDefinition.tags])] };
    const candidates = ants.slots().filter((ant) => ant.running < ant.capacity && canRun(ant, placement));
    const ant = candidates.length > 0 ? policy.placeTask(placement, candidates) : undefined;
    if (!ant) return false;
    await this.options.startTask(task, ant);
    return true;
  }
}
