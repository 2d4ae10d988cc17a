import { fullJitter } from '@myrmex/backoff';
import type { Logger } from 'pino';
import type { JobDefinition } from '../definition/model.js';
import { derivedId } from '../domain/ids.js';
import { visibleJobType } from '../domain/job-type-names.js';
import { TERMINAL_JOB_STATES } from '../domain/states.js';
import type { DefinitionVersion, TimelineEvent } from '../domain/types.js';
import type { JobRow, JobStore, NewLogLine } from '../store/store.js';
import type { NotificationRow, WorkflowEventStore } from '../store/workflow-events.js';
import { createDerivedJob } from './derived-job.js';
import { type NotifyOptions, notificationSenders, notificationsFor, type Sender, taskNotificationsFor } from './notify.js';
import { decideTrigger, jobTriggersOn, rateWindowMs } from './triggers.js';

/** Log lines about a job's notifications and triggers go under this name: no task may hold an `@`. */
export const JOB_EVENTS_TASK = '@job';

export interface JobEndsOptions {
  readonly store: JobStore;
  readonly events: WorkflowEventStore;
  readonly holder: string;
  readonly definition: (jobType: string, version: number) => Promise<JobDefinition>;
  readonly committed: (events: readonly TimelineEvent[]) => void;
  readonly appendLogs: (lines: readonly NewLogLine[]) => Promise<unknown>;
  readonly logger: Logger;
  readonly notify?: NotifyOptions;
  /** How long a claim on a notification lasts: a queen that dies while sending leaves it to another after this (default 30 s). */
  readonly claimMs?: number;
}

/** A task's notifications follow these ends: it ran, and its outcome is final. */
const TASK_ENDS: readonly string[] = ['COMPLETED', 'FAILED'];

/** Definitions are re-read at most this often to find job triggers and notify keys (a new one is seen within it). */
const DEFINITIONS_TTL_MS = 5_000;

/** How far back a starting queen looks for job ends whose followers a killed queen may not have started. */
export const RECOVERY_WINDOW_MS = 3_600_000;

/**
 * What follows a job's end (issue 14): `type: job` triggers of other job types, and notifications.
 * Every queen calls `ended` with the transitions it committed; the effects are idempotent in the
 * store (derived job ids, notification rows keyed by job/channel/recipient), so one event makes one
 * job and one message per recipient whichever queens see it. Notifications are sent by a loop every
 * queen runs, each row by the queen that claimed it, retried with backoff; each send or failure is a
 * system log line of the job (task `@job`).
 */
export class JobEnds {
  private readonly senders: Record<string, Sender>;
  private definitions?: { readonly at: number; readonly list: Promise<readonly DefinitionVersion[]> };
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;
  private pending = new Set<Promise<unknown>>();

  constructor(private readonly options: JobEndsOptions) {
    this.senders = notificationSenders(options.notify ?? {});
  }

  start(): void {
    this.stopped = false;
    this.poke();
    const work = this.recover().catch((err: unknown) => this.options.logger.warn({ err }, 'could not look for unfollowed job ends'));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /**
   * The followers of jobs that ended in the last hour, started again: a queen killed between a job's
   * end and what follows it (the trigger's job, the notification rows) left them undone. Each effect is
   * keyed in the store, so what was already done is not done twice.
   */
  async recover(now = Date.now()): Promise<number> {
    if (!(await this.anyFollower())) return 0;
    let followed = 0;
    for (const state of TERMINAL_JOB_STATES) {
      let cursor: string | undefined;
      do {
        const page = await this.options.store.listJobs({
          state,
          submittedAfter: new Date(now - RECOVERY_WINDOW_MS),
          limit: 500,
          ...(cursor === undefined ? {} : { cursor }),
        });
        for (const job of page.items) {
          if (this.stopped) return followed;
          if (job.endedAt !== undefined && job.endedAt.getTime() >= now - RECOVERY_WINDOW_MS) {
            await this.startFollowers(job);
            await this.fileNotifications(job);
            await this.followTasksOf(job);
            followed++;
          }
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    }
    return followed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.pending]);
    await this.running;
  }

  /** Looks at committed transitions: each job-level end starts its followers. */
  ended(events: readonly TimelineEvent[]): void {
    for (const event of events) {
      const taskEnd = event.taskType !== undefined && TASK_ENDS.includes(event.to);
      if (!taskEnd && (event.taskType !== undefined || !TERMINAL_JOB_STATES.includes(event.to as never))) continue;
      const follow = taskEnd ? this.followTask(event.jobId, event.taskType!) : this.follow(event.jobId);
      const work = follow.catch((err: unknown) =>
        this.options.logger.warn({ err, jobId: event.jobId, taskType: event.taskType }, 'could not start what follows an end'),
      );
      this.pending.add(work);
      void work.finally(() => this.pending.delete(work));
    }
  }

  private latest(): Promise<readonly DefinitionVersion[]> {
    const now = Date.now();
    if (this.definitions === undefined || now - this.definitions.at > DEFINITIONS_TTL_MS) {
      const list = this.options.store.latestDefinitions();
      list.catch(() => (this.definitions = undefined));
      this.definitions = { at: now, list };
    }
    return this.definitions.list;
  }

  /** Forgets the definitions read, so one just applied on this queen counts at once. */
  refresh(): void {
    this.definitions = undefined;
  }

  /** Whether any definition could care about a job's end: when none does, a job's end costs no read. */
  private async anyFollower(): Promise<boolean> {
    return (await this.latest()).some(
      (d) =>
        d.definition.notify !== undefined ||
        d.definition.webhook !== undefined ||
        d.definition.triggers.some((t) => t.type === 'job') ||
        d.definition.tasks.some((t) => t.notify !== undefined || t.webhook !== undefined),
    );
  }

  /** A task's own `notify` and `webhook`, once it ended (COMPLETED or FAILED). */
  private async followTask(jobId: string, taskType: string): Promise<void> {
    const latest = await this.latest();
    if (!latest.some((d) => d.definition.tasks.some((t) => t.notify !== undefined || t.webhook !== undefined))) return;
    const job = await this.options.store.job(jobId);
    if (job === undefined) return;
    const definition = await this.options.definition(job.jobType, job.version);
    const task = definition.tasks.find((t) => t.taskType === taskType);
    if (task === undefined || (task.notify === undefined && task.webhook === undefined)) return;
    const row = (await this.options.store.tasks(jobId)).find((t) => t.taskType === taskType);
    if (row === undefined || !TASK_ENDS.includes(row.state)) return;
    let rows: ReturnType<typeof taskNotificationsFor>;
    try {
      rows = taskNotificationsFor(job, definition, task, row);
    } catch (error) {
      await this.log(jobId, `notify (task ${taskType}): ${error instanceof Error ? error.message : String(error)}; nothing sent`);
      return;
    }
    if ((await this.options.events.enqueueNotifications(rows, new Date())) > 0) this.poke();
  }

  private async follow(jobId: string): Promise<void> {
    if (!(await this.anyFollower())) return;
    const job = await this.options.store.job(jobId);
    if (job === undefined || !TERMINAL_JOB_STATES.includes(job.state as never)) return;
    await this.startFollowers(job);
    await this.fileNotifications(job);
    await this.followTasksOf(job);
  }

  /**
   * Every ended task's own notifications, filed again at its job's end: a queen killed between a
   * task's end and filing them left them undone (rows are keyed, so what was filed is not filed twice).
   */
  private async followTasksOf(job: JobRow): Promise<void> {
    const definition = await this.options.definition(job.jobType, job.version);
    const notifying = new Set(definition.tasks.filter((t) => t.notify !== undefined || t.webhook !== undefined).map((t) => t.taskType));
    if (notifying.size === 0) return;
    for (const task of await this.options.store.tasks(job.id)) {
      if (notifying.has(task.taskType) && TASK_ENDS.includes(task.state)) await this.followTask(job.id, task.taskType);
    }
  }

  private async startFollowers(job: JobRow): Promise<void> {
    const { store, events, committed } = this.options;
    const data = { Job: { ID: job.id, JobType: job.jobType, State: job.state, Reason: job.reason ?? '', Params: job.params } };
    for (const { definition, trigger } of jobTriggersOn(await this.latest(), job.jobType, job.state)) {
      const line = (text: string) => this.log(job.id, text);
      // The upstream job's log is read by its organisation's users: the trigger is named as they name it.
      const named = `${visibleJobType(definition.jobType)}/${trigger.name}`;
      let decision: ReturnType<typeof decideTrigger>;
      try {
        decision = decideTrigger(trigger, data);
      } catch (error) {
        await line(`trigger ${named}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (!decision.fire) continue;
      const id = derivedId('trigger', definition.jobType, trigger.name, decision.dedupKey ?? job.id);
      if ((await store.job(id)) !== undefined) continue;
      const window = rateWindowMs(trigger);
      if (window !== undefined && trigger.rate_limit !== undefined) {
        const now = Date.now();
        const start = now - (now % window);
        const count = await events.countEvent(`trigger:${definition.jobType}:${trigger.name}`, start, start + window);
        if (count > trigger.rate_limit.max) {
          await line(`trigger ${named}: rate limit ${trigger.rate_limit.max} per ${window / 1000}s reached; no job`);
          continue;
        }
      }
      const org = await events.definitionOrg(definition.jobType);
      const created = await createDerivedJob(store, committed, {
        id,
        definition,
        priority: definition.definition.priority,
        params: decision.params,
        ...(org === undefined ? {} : { org }),
      });
      await events.link({ jobId: id, kind: 'trigger', origin: job.id, trigger: trigger.name, at: new Date() });
      if (created) await line(`trigger ${named} started job ${id}`);
    }
  }

  private async fileNotifications(job: JobRow): Promise<void> {
    const definition = await this.options.definition(job.jobType, job.version);
    if (definition.notify === undefined && definition.webhook === undefined) return;
    let rows: ReturnType<typeof notificationsFor>;
    try {
      rows = notificationsFor(job, definition);
    } catch (error) {
      await this.log(job.id, `notify: ${error instanceof Error ? error.message : String(error)}; nothing sent`);
      return;
    }
    if ((await this.options.events.enqueueNotifications(rows, new Date())) > 0) this.poke();
  }

  private log(jobId: string, text: string): Promise<unknown> {
    return this.options.appendLogs([{ jobId, taskType: JOB_EVENTS_TASK, attempt: 0, stream: 'system', at: new Date(), text }]);
  }

  /** Runs a delivery pass soon, then sleeps until the next row is due (30 s at most, so rows another queen filed are seen). */
  poke(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.deliver()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'notification pass failed'))
        .then(() => this.sleep());
    }, 0);
    this.timer.unref();
  }

  private async sleep(): Promise<void> {
    if (this.stopped) return;
    const next = await this.options.events.nextNotificationAt().catch(() => undefined);
    const wait = Math.min(30_000, Math.max(0, (next ?? Number.POSITIVE_INFINITY) - Date.now()));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poke(), wait);
    this.timer.unref();
  }

  /** Sends every due notification this queen can claim; returns how many were settled. */
  async deliver(): Promise<number> {
    const { events, holder } = this.options;
    const claimMs = this.options.claimMs ?? 30_000;
    let settled = 0;
    for (;;) {
      const rows = await events.claimNotifications(holder, Date.now(), claimMs, 20);
      if (rows.length === 0) return settled;
      await Promise.all(rows.map((row) => this.send(row)));
      settled += rows.length;
      if (this.stopped) return settled;
    }
  }

  private async send(row: NotificationRow): Promise<void> {
    const { events, holder } = this.options;
    const maxAttempts = this.options.notify?.maxAttempts ?? 5;
    const to = `${row.channel} ${row.recipient}`;
    try {
      await this.senders[row.channel]!(row);
      if (await events.settleNotification(row, holder, { sent: true, at: new Date() })) {
        await this.log(row.jobId, `notify ${to}: sent (attempt ${row.attempts})`);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const last = row.attempts >= maxAttempts;
      const delay = fullJitter(row.attempts, { baseMs: this.options.notify?.retryBaseMs ?? 1_000, capMs: 300_000 });
      const settled = await events.settleNotification(row, holder, {
        sent: false,
        error: reason,
        ...(last ? {} : { retryAt: Date.now() + delay }),
      });
      if (settled) {
        await this.log(
          row.jobId,
          last
            ? `notify ${to}: failed (attempt ${row.attempts} of ${maxAttempts}, given up): ${reason}`
            : `notify ${to}: failed (attempt ${row.attempts} of ${maxAttempts}, retry in ${Math.round(delay)} ms): ${reason}`,
        );
      }
    }
  }
}
