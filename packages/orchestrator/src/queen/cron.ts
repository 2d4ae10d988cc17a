import type { Cron } from 'croner';
import { cronSchedule, cronSlotAt } from '../definition/cron.js';
import { derivedId } from '../domain/ids.js';
import type { DefinitionVersion, TimelineEvent } from '../domain/types.js';
import type { JobStore } from '../store/store.js';
import { createDerivedJob } from './derived-job.js';

/** The job a cron slot submits: the same on every queen, so the job table's primary key lets one queen win. */
export function cronJobId(jobType: string, slot: Date): string {
  return derivedId('cron', jobType, slot.toISOString());
}

export interface CronTriggersOptions {
  readonly store: JobStore;
  readonly committed: (events: readonly TimelineEvent[]) => void;
  /** The clock slots are read from (tests move it); jobs are still due at once. */
  readonly now?: () => Date;
  /** The longest sleep between passes, so definitions another queen applied are seen (default 30 s). */
  readonly maxWaitMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * `cron_trigger`: every queen runs this loop, and the database decides. Each pass takes, for every
 * enabled definition with a trigger, the latest slot at or before now, and submits the job
 * `cronJobId(type, slot)`: a second queen (or a second pass) asking for the same slot hits the
 * unique job id and submits nothing. Missed slots (every queen down) coalesce: the next pass runs
 * the latest one once. Slots before the definition version was applied never run.
 */
export class CronTriggers {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;
  /** The schedules the last pass saw: the loop sleeps until the earliest next slot. */
  private schedules: Cron[] = [];

  constructor(private readonly options: CronTriggersOptions) {}

  start(): void {
    this.stopped = false;
    this.poke();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs a pass soon (a definition was applied here), then sleeps until the next slot. */
  poke(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.fire()
        .catch((error: unknown) => this.options.onError?.(error))
        .then(() => this.sleep());
    }, 0);
    this.timer.unref();
  }

  private async sleep(): Promise<void> {
    if (this.stopped) return;
    const now = this.now();
    let wait = this.options.maxWaitMs ?? 30_000;
    for (const cron of this.schedules) {
      const next = cron.nextRun(now);
      if (next) wait = Math.min(wait, next.getTime() - now.getTime());
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poke(), Math.max(0, wait));
    this.timer.unref();
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * One pass at `at` (default the clock): submits the job of each trigger's latest slot that no
   * queen has submitted yet. Returns the ids of the jobs this call created.
   */
  async fire(at: Date = this.now()): Promise<readonly string[]> {
    const created: string[] = [];
    const definitions = (await this.options.store.latestDefinitions()).filter((d) => d.definition.cronTrigger !== undefined && !d.disabled);
    const schedules: Cron[] = [];
    for (const found of definitions) {
      const cron = this.schedule(found);
      if (cron === undefined) continue;
      schedules.push(cron);
      try {
        const id = await this.submitSlot(found, cronSlotAt(cron, at));
        if (id !== undefined) created.push(id);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    this.schedules = schedules;
    return created;
  }

  /** Submits the slot's job unless the slot is older than the definition or some queen submitted it; the id when this call did. */
  private async submitSlot(found: DefinitionVersion, slot: Date | undefined): Promise<string | undefined> {
    const { store } = this.options;
    if (slot === undefined || slot < found.createdAt) return undefined;
    const id = cronJobId(found.jobType, slot);
    const created = await createDerivedJob(store, this.options.committed, {
      id,
      definition: found,
      priority: found.definition.priority,
      params: {},
    });
    return created ? id : undefined;
  }

  private schedule(found: DefinitionVersion): Cron | undefined {
    try {
      return cronSchedule(found.definition.cronTrigger!);
    } catch (error) {
      // Validation refuses such text; a definition stored before that rule cannot stop the others.
      this.options.onError?.(new Error(`cron_trigger of ${found.jobType}: ${error instanceof Error ? error.message : String(error)}`));
      return undefined;
    }
  }
}
