import type { JobDefinition } from '../definition/model.js';
import type { TimelineEvent } from '../queen/service.js';
import type { AttemptEnd, Changes, JobChange, JobRow, JobStore, TaskChange, TaskRow } from '../store/store.js';
import { type JobSnapshot, jobRetryDelay, type Plan, planJob, type TaskSnapshot, tasksToRestart } from './plan.js';
import { type AttemptResult, judgeAttempt, type RetryDelay, type Verdict } from './verdict.js';

/** Serialises work per job: every read-decide-write of one job runs alone, in order. */
export class JobLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(jobId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(jobId, tail);
    void tail.then(() => {
      if (this.tails.get(jobId) === tail) this.tails.delete(jobId);
    });
    return next;
  }
}

export interface SupervisorHooks {
  /** Definitions by job type and version (cached by the queen). */
  definition(jobType: string, version: number): Promise<JobDefinition>;
  /** Called with every committed transition, in commit order. */
  committed(events: readonly TimelineEvent[]): void;
  /** Stop a running attempt; its result arrives later and is ignored if the task has moved on. */
  kill(jobId: string, taskType: string, attempt: number, reason: string): void;
  retryDelay: RetryDelay;
}

export class SupervisorError extends Error {
  override readonly name = 'SupervisorError';
  constructor(
    message: string,
    readonly code: 'not_found' | 'conflict',
  ) {
    super(message);
  }
}

function snapshotOf(tasks: readonly TaskRow[], stop: JobRow['stop'], overrides: ReadonlyMap<string, TaskSnapshot>): JobSnapshot {
  const map = new Map<string, TaskSnapshot>();
  for (const task of tasks) map.set(task.taskType, overrides.get(task.taskType) ?? task);
  return { stop, tasks: map };
}

/** The task states once `changes` are applied on top of `snapshot`. */
function finalStates(snapshot: JobSnapshot, changes: readonly TaskChange[]): JobSnapshot {
  const tasks = new Map(snapshot.tasks);
  for (const change of changes) {
    if (change.state !== undefined) tasks.set(change.taskType, { ...tasks.get(change.taskType), state: change.state });
  }
  return { ...snapshot, tasks };
}

/** What a caller wants to change before the plan is applied on top. */
interface Step {
  readonly job?: JobChange;
  readonly tasks?: readonly TaskChange[];
  readonly attempts?: readonly AttemptEnd[];
  /** Task states as they will be after `tasks`, for the plan. */
  readonly overrides?: ReadonlyMap<string, TaskSnapshot>;
  readonly stop?: JobRow['stop'];
}

/**
 * The job supervisor: turns events (admission, an attempt's result, cancel, restart, timeout,
 * recovery) into store transitions, using the pure engine for every decision.
 */
export class Supervisor {
  readonly locks = new JobLocks();
  /** Attempts killed by their job's timeout: they fail with "job timeout", without retry. */
  private readonly timedOut = new Set<string>();

  constructor(
    private readonly store: JobStore,
    private readonly hooks: SupervisorHooks,
    private readonly now: () => number = Date.now,
  ) {}

  private async load(jobId: string): Promise<{ job: JobRow; tasks: readonly TaskRow[]; definition: JobDefinition }> {
    const job = await this.store.job(jobId);
    if (!job) throw new SupervisorError(`job ${jobId} does not exist`, 'not_found');
    const [tasks, definition] = await Promise.all([this.store.tasks(jobId), this.hooks.definition(job.jobType, job.version)]);
    return { job, tasks, definition };
  }

  /** Applies `step` plus the plan that follows from it, in one transaction. */
  private async commit(job: JobRow, tasks: readonly TaskRow[], definition: JobDefinition, step: Step): Promise<boolean> {
    const at = new Date(this.now());
    const stop = step.stop === undefined ? job.stop : step.stop;
    const snapshot = snapshotOf(tasks, stop ?? undefined, step.overrides ?? new Map());
    const plan = planJob(definition, snapshot);
    const taskChanges = [...(step.tasks ?? []), ...this.planChanges(plan, snapshot)];
    const attempts = [...(step.attempts ?? []), ...this.cancelledAttempts(plan, tasks)];
    const jobChange = { ...this.outcomeChange(job, definition, plan, at), ...step.job };
    if (jobChange.state === 'PENDING' && job.state !== 'PENDING') {
      // An automatic job retry: the failed, skipped and cancelled tasks run again, as in a soft restart.
      taskChanges.push(...this.resets(finalStates(snapshot, taskChanges), false, 'job retry'));
    }
    const changes: Changes = { at, job: { expect: [job.state], ...jobChange }, tasks: taskChanges, attempts };
    const events = await this.store.apply(job.id, changes);
    if (!events) return false;
    this.hooks.committed(events);
    for (const taskType of plan.cancel) {
      const row = tasks.find((t) => t.taskType === taskType);
      if (row?.state === 'EXECUTING') this.hooks.kill(job.id, taskType, row.attempt, 'job cancelled');
    }
    return true;
  }

  private planChanges(plan: Plan, snapshot: JobSnapshot): TaskChange[] {
    const changes: TaskChange[] = [];
    for (const { taskType, reason } of plan.skip) {
      changes.push({ taskType, state: 'SKIPPED', reason, notBefore: null, endedAt: new Date(this.now()) });
    }
    for (const taskType of plan.start) changes.push({ taskType, state: 'READY', reason: 'ready to run' });
    for (const taskType of plan.cancel) {
      const wasRunning = snapshot.tasks.get(taskType)?.state === 'EXECUTING';
      changes.push({ taskType, state: 'CANCELLED', reason: wasRunning ? 'cancelled while running' : 'cancelled', notBefore: null });
    }
    return changes;
  }

  private cancelledAttempts(plan: Plan, tasks: readonly TaskRow[]): AttemptEnd[] {
    return plan.cancel.flatMap((taskType) => {
      const row = tasks.find((t) => t.taskType === taskType);
      return row?.state === 'EXECUTING' ? [{ taskType, attempt: row.attempt, state: 'CANCELLED' as const, reason: 'cancelled' }] : [];
    });
  }

  /** The job's own transition once the plan says it is over: terminal, or an automatic retry. */
  private outcomeChange(job: JobRow, definition: JobDefinition, plan: Plan, at: Date): Partial<JobChange> {
    const outcome = plan.outcome;
    if (!outcome) return {};
    if (outcome.state === 'FAILED') {
      const delay = jobRetryDelay(definition, job.retry);
      if (delay !== undefined) {
        return {
          state: 'PENDING',
          reason: `job retry ${job.retry + 1} of ${definition.retry} after: ${outcome.reason}`,
          retry: job.retry + 1,
          scheduledAt: new Date(at.getTime() + delay),
          stop: null,
          deadlineAt: null,
        };
      }
    }
    return { state: outcome.state, reason: outcome.reason, endedAt: at, deadlineAt: null };
  }

  /** Task resets for a restart (manual or the automatic job retry). */
  private resets(snapshot: JobSnapshot, hard: boolean, reason: string): TaskChange[] {
    return tasksToRestart(snapshot, hard).map((taskType) => ({
      taskType,
      state: 'PENDING' as const,
      reason,
      runAttempts: 0,
      route: null,
      fatal: false,
      notBefore: null,
      exitCode: null,
      endedAt: null,
      ...(hard ? { outputs: {} } : {}),
    }));
  }

  /** PENDING -> READY: the job may start; its first tasks become READY. */
  admit(jobId: string): Promise<boolean> {
    return this.locks.run(jobId, async () => {
      const { job, tasks, definition } = await this.load(jobId);
      if (job.state !== 'PENDING') return false;
      return this.commit(job, tasks, definition, {
        job: {
          state: 'READY',
          reason: 'admitted',
          deadlineAt: null,
          endedAt: null,
        },
      });
    });
  }

  /** An attempt's result, from whichever ant ran it. Ignored when the task has moved on (cancel, recovery). */
  attemptFinished(
    jobId: string,
    taskType: string,
    attempt: number,
    result: AttemptResult,
    outputs: Readonly<Record<string, string>>,
  ): Promise<Verdict | undefined> {
    return this.locks.run(jobId, async () => {
      const { job, tasks, definition } = await this.load(jobId);
      const row = tasks.find((t) => t.taskType === taskType);
      const task = definition.tasks.find((t) => t.taskType === taskType);
      if (!row || !task || row.state !== 'EXECUTING' || row.attempt !== attempt) return undefined;
      const killedByTimeout = this.timedOut.delete(`${jobId}/${taskType}/${attempt}`);
      const verdict: Verdict = killedByTimeout
        ? { kind: 'failed', fatal: false, reason: 'job timeout' }
        : judgeAttempt(task, result, row.runAttempts, this.hooks.retryDelay);
      const now = this.now();
      const exitCode = result.exitCode ?? null;
      const attemptState = verdict.kind === 'completed' ? 'COMPLETED' : 'FAILED';
      const change: TaskChange =
        verdict.kind === 'retry'
          ? { taskType, state: 'READY', reason: verdict.reason, exitCode, outputs, notBefore: now + verdict.delayMs }
          : {
              taskType,
              state: attemptState,
              reason: verdict.reason,
              exitCode,
              outputs,
              route: verdict.route ?? null,
              fatal: verdict.kind === 'failed' && verdict.fatal,
              endedAt: new Date(now),
            };
      const override: TaskSnapshot = {
        state: change.state!,
        route: verdict.kind === 'retry' ? undefined : verdict.route,
        fatal: verdict.kind === 'failed' && verdict.fatal,
        reason: verdict.reason,
      };
      const committed = await this.commit(job, tasks, definition, {
        tasks: [{ ...change, expect: { state: 'EXECUTING', attempt } }],
        attempts: [{ taskType, attempt, state: attemptState, exitCode: result.exitCode, reason: verdict.reason }],
        overrides: new Map([[taskType, override]]),
      });
      return committed ? verdict : undefined;
    });
  }

  /** Cancels a job that has not ended: running attempts are killed, nothing new starts. */
  cancel(jobId: string, reason = 'cancelled'): Promise<void> {
    return this.locks.run(jobId, async () => {
      const { job, tasks, definition } = await this.load(jobId);
      if (job.state === 'COMPLETED' || job.state === 'FAILED' || job.state === 'CANCELLED') {
        throw new SupervisorError(`job ${jobId} is already ${job.state}`, 'conflict');
      }
      await this.commit(job, tasks, definition, { stop: 'cancel', job: { stop: 'cancel', reason } });
    });
  }

  /**
   * READY or EXECUTING -> PAUSED: nothing new starts (the scheduler and `claim` only take tasks of
   * READY/EXECUTING jobs); running attempts finish and their results are judged as usual.
   */
  pause(jobId: string, reason = 'paused'): Promise<void> {
    return this.locks.run(jobId, async () => {
      const { job } = await this.load(jobId);
      if (job.state !== 'READY' && job.state !== 'EXECUTING') {
        throw new SupervisorError(`job ${jobId} is ${job.state}; only READY or EXECUTING jobs can be paused`, 'conflict');
      }
      const events = await this.store.apply(jobId, { at: new Date(this.now()), job: { expect: [job.state], state: 'PAUSED', reason } });
      if (!events) throw new SupervisorError(`job ${jobId} changed while pausing; try again`, 'conflict');
      this.hooks.committed(events);
    });
  }

  /** PAUSED -> the state it was paused in, re-planned from what finished meanwhile. */
  resume(jobId: string): Promise<void> {
    return this.locks.run(jobId, async () => {
      const { job, tasks, definition } = await this.load(jobId);
      if (job.state !== 'PAUSED') throw new SupervisorError(`job ${jobId} is ${job.state}; only PAUSED jobs can be resumed`, 'conflict');
      const timeline = await this.store.timeline(jobId);
      const paused = timeline.findLast((event) => event.taskType === undefined && event.to === 'PAUSED');
      const state = paused?.from === 'EXECUTING' ? 'EXECUTING' : 'READY';
      if (!(await this.commit(job, tasks, definition, { job: { state, reason: 'resumed' } }))) {
        throw new SupervisorError(`job ${jobId} changed while resuming; try again`, 'conflict');
      }
    });
  }

  /** FAILED or CANCELLED -> PENDING: failed, cancelled and skipped tasks run again (hard: every task). */
  restart(jobId: string, hard: boolean): Promise<void> {
    return this.locks.run(jobId, async () => {
      const { job, tasks } = await this.load(jobId);
      if (job.state !== 'FAILED' && job.state !== 'CANCELLED') {
        throw new SupervisorError(`job ${jobId} is ${job.state}; only FAILED or CANCELLED jobs can be restarted`, 'conflict');
      }
      const reason = hard ? 'restarted (hard)' : 'restarted';
      const events = await this.store.apply(jobId, {
        at: new Date(this.now()),
        job: {
          expect: [job.state],
          state: 'PENDING',
          reason,
          stop: null,
          endedAt: null,
          scheduledAt: new Date(this.now()),
          deadlineAt: null,
        },
        tasks: this.resets(snapshotOf(tasks, job.stop, new Map()), hard, reason),
      });
      if (!events) throw new SupervisorError(`job ${jobId} changed while restarting; try again`, 'conflict');
      this.hooks.committed(events);
    });
  }

  /** The job ran past its timeout: running attempts are killed (FAILED "job timeout"), always_run tasks still run. */
  timeout(jobId: string): Promise<void> {
    return this.locks.run(jobId, async () => {
      const { job, tasks, definition } = await this.load(jobId);
      if (job.state !== 'READY' && job.state !== 'EXECUTING') return;
      const committed = await this.commit(job, tasks, definition, { stop: 'timeout', job: { stop: 'timeout', deadlineAt: null } });
      if (!committed) return;
      for (const row of tasks) {
        if (row.state !== 'EXECUTING') continue;
        this.timedOut.add(`${jobId}/${row.taskType}/${row.attempt}`);
        this.hooks.kill(jobId, row.taskType, row.attempt, 'job timeout');
      }
    });
  }

  /** Re-plans a job from its stored state (after an automatic job retry or a restart of the queen). */
  replan(jobId: string): Promise<void> {
    return this.locks.run(jobId, async () => {
      const { job, tasks, definition } = await this.load(jobId);
      if (job.state !== 'READY' && job.state !== 'EXECUTING') return;
      await this.commit(job, tasks, definition, {});
    });
  }

  /**
   * After a crash: an attempt still marked EXECUTING died with the previous queen. It is judged as
   * a failed attempt with the reason "queen restarted": retried if the task has retries left,
   * otherwise FAILED. An attempt row left open by a task that had moved on is just closed.
   */
  async recoverAttempt(jobId: string, taskType: string, attempt: number): Promise<void> {
    const reason = 'queen restarted';
    const verdict = await this.attemptFinished(jobId, taskType, attempt, { succeeded: false, error: reason }, {});
    if (verdict) return;
    await this.locks.run(jobId, async () => {
      await this.store.apply(jobId, { at: new Date(this.now()), attempts: [{ taskType, attempt, state: 'FAILED', reason }] });
    });
  }
}
