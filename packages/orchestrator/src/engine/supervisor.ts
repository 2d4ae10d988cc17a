import type { JobDefinition } from '../definition/model.js';
import { AWAITING_APPROVAL, NO_SLA } from '../domain/approvals.js';
import { type JobAction, RUNNABLE_JOB_STATES, refusal } from '../domain/states.js';
import type { TimelineEvent } from '../domain/types.js';
import type { ApprovalDecision } from '../store/approvals.js';
import type { AttemptEnd, Changes, JobChange, JobRow, JobStore, JobWithTasks, TaskChange, TaskRow } from '../store/store.js';
import { decisionView, slaMs } from './approvals.js';
import { type JobSnapshot, jobRetryDelay, type Plan, planJob, type TaskSnapshot, tasksToRestart } from './plan.js';
import { jobSkipReason, taskConditions } from './skip.js';
import { type AttemptResult, judgeAttempt, type RetryDelay, type Verdict } from './verdict.js';

export interface SupervisorHooks {
  /** Definitions by job type and version (cached by the queen). */
  definition(jobType: string, version: number): Promise<JobDefinition>;
  /** Called with every committed transition, in commit order. */
  committed(events: readonly TimelineEvent[]): void;
  /** Stop a running attempt this process runs; its result arrives later and is rejected if the task has moved on. */
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

/** The mark a timeout leaves on a running task: its attempt fails with this reason, without retry. */
export const TIMEOUT_KILL = 'job timeout';

/** The mark a preemption leaves on a running task: its attempt is retried at once, without using up a retry. */
export const PREEMPT_KILL = 'preempted';

const GRACE = /; grace (\d+) ms$/;

/**
 * The grace a kill mark gives its attempt (a graceful preemption: signalled, then killed once it is over), if it
 * gives one. It travels in the mark, so whichever queen runs the attempt reads it from the store.
 */
export function killGraceMs(mark: string): number | undefined {
  const found = GRACE.exec(mark);
  return found ? Number(found[1]) : undefined;
}

/** A MANUAL task still waiting for its decision. */
export const awaitingApproval = (row: TaskRow): boolean => row.state === 'READY' && row.reason?.startsWith(AWAITING_APPROVAL) === true;

/** How many times one request re-reads and re-plans a job that others keep changing before giving up. */
const MAX_REPLANS = 100;

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
  /** False: write the step as it is, without planning on top (pause, restart). */
  readonly planned?: boolean;
}

/** A transition ready for the store, and what follows its commit. */
interface Prepared {
  readonly changes: Changes;
  readonly committed: (events: readonly TimelineEvent[]) => void;
}

interface Loaded {
  readonly job: JobRow;
  readonly tasks: readonly TaskRow[];
  readonly definition: JobDefinition;
}

/** A request waiting for the next batch (see `batched`). */
interface Queued {
  readonly jobId: string;
  readonly decide: (loaded: Loaded) => Decision<unknown>;
  /** A read to plan from first instead of reading the job (see `remember`). */
  readonly basis?: JobWithTasks;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** The most reads `remember` keeps (a claimed attempt whose result never comes leaves its read behind). */
const KNOWN_LIMIT = 4096;

/** The most requests one batch reads and writes; the rest wait for the next. */
const BATCH = 256;

/** What a request decided after reading the job: its result, and the step to commit (none: nothing to write). */
interface Decision<T> {
  readonly result: T;
  readonly step?: Step;
}

/**
 * The job supervisor: turns events (admission, an attempt's result, cancel, restart, timeout, an
 * expired lease) into store transitions, using the pure engine for every decision.
 *
 * Nothing here is a critical section in memory: each request reads the job with its revision,
 * plans, and writes with that revision (compare-and-set); when another queen (or request) changed
 * the job meanwhile the write is refused and the request re-reads and re-plans.
 */
export class Supervisor {
  private readonly queued: Queued[] = [];
  private readonly known = new Map<string, JobWithTasks>();
  private batching = false;

  constructor(
    private readonly store: JobStore,
    private readonly hooks: SupervisorHooks,
    private readonly now: () => number = Date.now,
  ) {}

  private async load(jobId: string): Promise<Loaded> {
    // The job and its tasks in one round trip; the definition is the queen's cache.
    const found = (await this.store.jobsWithTasks([jobId])).get(jobId);
    if (!found) throw new SupervisorError(`job ${jobId} does not exist`, 'not_found');
    return this.withDefinition(found);
  }

  private async withDefinition({ job, tasks }: JobWithTasks): Promise<Loaded> {
    return { job, tasks, definition: await this.hooks.definition(job.jobType, job.version) };
  }

  /**
   * Keeps reads of jobs whose attempts were just claimed (the queen reads them to render the
   * tasks): an attempt's result plans from its job's read instead of reading the job again. The
   * write is a compare-and-set on the read's revision, so a read the job has moved on from (another
   * task ended, a kill mark) is refused and the result re-read and re-planned; each read serves
   * one result.
   */
  remember(reads: ReadonlyMap<string, JobWithTasks>): void {
    for (const [jobId, read] of reads) {
      this.known.delete(jobId);
      this.known.set(jobId, read);
    }
    for (const jobId of this.known.keys()) {
      if (this.known.size <= KNOWN_LIMIT) break;
      this.known.delete(jobId);
    }
  }

  /** The remembered read of a job, once. */
  private takeKnown(jobId: string): JobWithTasks | undefined {
    const read = this.known.get(jobId);
    this.known.delete(jobId);
    return read;
  }

  /**
   * Reads the job (or plans from `basis` first), lets `decide` choose (a step to commit, or
   * nothing), commits it at the revision read, and starts over when the job moved on. `decide`
   * returns the request's result.
   */
  private async transact<T>(jobId: string, decide: (loaded: Loaded) => Decision<T>, basis?: JobWithTasks): Promise<T> {
    for (let round = 0; ; round++) {
      const loaded = round === 0 && basis !== undefined ? await this.withDefinition(basis) : await this.load(jobId);
      const decision = decide(loaded);
      if (decision.step === undefined) return decision.result;
      if (await this.commit(loaded, decision.step)) return decision.result;
      if (round >= MAX_REPLANS) throw new SupervisorError(`job ${jobId} kept changing while being updated; try again`, 'conflict');
    }
  }

  /**
   * `transact` for requests that arrive together (attempt results under load): those that come while
   * a batch is being written wait for the next one; a batch is read in one statement and written in
   * one store transaction (`applyMany`), each job at the revision read. A request alone, one the store
   * refuses (the job moved on, or another queen's transaction holds it) and a second one for a job
   * already in the batch go through `transact`, which re-reads and re-plans.
   */
  private batched<T>(jobId: string, decide: (loaded: Loaded) => Decision<T>, basis?: JobWithTasks): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ jobId, decide, resolve: resolve as (value: unknown) => void, reject, ...(basis === undefined ? {} : { basis }) });
      if (this.batching) return;
      this.batching = true;
      // What arrives in this turn of the event loop joins the first batch.
      setImmediate(() => void this.drainBatches());
    });
  }

  private async drainBatches(): Promise<void> {
    try {
      while (this.queued.length > 0) await this.transactMany(this.queued.splice(0, BATCH));
    } finally {
      this.batching = false;
    }
  }

  private async transactMany(items: readonly Queued[]): Promise<void> {
    const alone = (item: Queued) => this.transact(item.jobId, item.decide).then(item.resolve, item.reject);
    if (items.length === 1) {
      const [item] = items as [Queued];
      return this.transact(item.jobId, item.decide, item.basis).then(item.resolve, item.reject);
    }
    const unread = items.filter((item) => item.basis === undefined).map((item) => item.jobId);
    const found = unread.length === 0 ? new Map<string, JobWithTasks>() : await this.store.jobsWithTasks(unread).catch(() => undefined);
    // The read failed: each request tries on its own (and fails on its own if the store is away).
    if (!found) return void (await Promise.all(items.map(alone)));
    const later: Queued[] = [];
    const batch: { item: Queued; loaded: Loaded; prepared: Prepared; result: unknown }[] = [];
    const inBatch = new Set<string>();
    for (const item of items) {
      const read = item.basis ?? found.get(item.jobId);
      if (!read || inBatch.has(item.jobId)) {
        later.push(item);
        continue;
      }
      try {
        const loaded = { ...read, definition: await this.hooks.definition(read.job.jobType, read.job.version) };
        const decision = item.decide(loaded);
        const prepared = decision.step && this.prepare(loaded, decision.step);
        if (!prepared) {
          item.resolve(decision.result);
          continue;
        }
        batch.push({ item, loaded, prepared, result: decision.result });
        inBatch.add(item.jobId);
      } catch (error) {
        item.reject(error);
      }
    }
    const changes = batch.map(({ item, loaded, prepared }) => ({
      jobId: item.jobId,
      changes: prepared.changes,
      basis: { job: loaded.job, tasks: loaded.tasks },
    }));
    const written = changes.length === 0 ? [] : await this.store.applyMany(changes).catch(() => changes.map(() => undefined));
    for (const [i, { item, prepared, result }] of batch.entries()) {
      const events = written[i];
      if (!events) {
        later.push(item);
        continue;
      }
      prepared.committed(events);
      item.resolve(result);
    }
    await Promise.all(later.map(alone));
  }

  private refuse(action: JobAction, job: JobRow): void {
    const reason = refusal(action, job.id, job.state);
    if (reason !== undefined) throw new SupervisorError(reason, 'conflict');
  }

  /** Applies `step` plus the plan that follows from it, in one transaction at the revision read. */
  private async commit(loaded: Loaded, step: Step): Promise<boolean> {
    const prepared = this.prepare(loaded, step);
    if (!prepared) return true;
    const events = await this.store.apply(loaded.job.id, prepared.changes, { job: loaded.job, tasks: loaded.tasks });
    if (!events) return false;
    prepared.committed(events);
    return true;
  }

  /**
   * The changes `step` and the plan that follows from it make, at the revision read, and what to do
   * once they are committed (report them, kill what they stopped); undefined when nothing changes.
   */
  private prepare({ job, tasks, definition }: Loaded, step: Step): Prepared | undefined {
    const at = new Date(this.now());
    const stop = step.stop === undefined ? job.stop : step.stop;
    const conditions = taskConditions(definition, job, tasks);
    const snapshot = {
      ...snapshotOf(tasks, stop ?? undefined, step.overrides ?? new Map()),
      ...(conditions === undefined ? {} : { condition: conditions }),
    };
    const plan = step.planned === false ? { start: [], skip: [], cancel: [] } : planJob(definition, snapshot);
    const taskChanges = [...(step.tasks ?? []), ...this.planChanges(plan, snapshot, definition)];
    const attempts = [...(step.attempts ?? []), ...this.cancelledAttempts(plan, tasks)];
    const outcome = this.outcomeChange(job, definition, plan, at);
    // An admission whose plan already ends the job (every task passed over by its condition) ends it.
    const ended = step.job?.state === 'READY' && outcome.state !== undefined ? outcome : {};
    const jobChange: JobChange = { ...outcome, ...step.job, ...ended };
    if (jobChange.state === 'PENDING' && job.state !== 'PENDING' && step.planned !== false) {
      // An automatic job retry: the failed, skipped and cancelled tasks run again, as in a soft restart.
      taskChanges.push(...this.resets(finalStates(snapshot, taskChanges), false, 'job retry'));
    }
    if (taskChanges.length === 0 && attempts.length === 0 && Object.keys(jobChange).length === 0) return undefined;
    const changes: Changes = { at, job: { ...jobChange, revision: job.revision }, tasks: taskChanges, attempts };
    const committed = (events: readonly TimelineEvent[]): void => {
      this.hooks.committed(events);
      for (const taskType of plan.cancel) {
        const row = tasks.find((t) => t.taskType === taskType);
        if (row?.state === 'EXECUTING') this.hooks.kill(job.id, taskType, row.attempt, 'job cancelled');
      }
      for (const change of taskChanges) {
        const row = tasks.find((t) => t.taskType === change.taskType);
        if (change.kill && row?.state === 'EXECUTING') this.hooks.kill(job.id, row.taskType, row.attempt, change.kill);
      }
    };
    return { changes, committed };
  }

  private planChanges(plan: Plan, snapshot: JobSnapshot, definition: JobDefinition): TaskChange[] {
    const changes: TaskChange[] = [];
    for (const { taskType, reason, route } of plan.skip) {
      changes.push({
        taskType,
        state: 'SKIPPED',
        reason,
        notBefore: null,
        endedAt: new Date(this.now()),
        ...(route === undefined ? {} : { route }),
      });
    }
    for (const { taskType, reason } of plan.fail ?? []) {
      changes.push({ taskType, state: 'FAILED', reason, notBefore: null, endedAt: new Date(this.now()) });
    }
    for (const taskType of plan.start) {
      const task = definition.tasks.find((t) => t.taskType === taskType);
      if (task?.method === 'MANUAL') {
        // No ant takes it: it waits, out of the ready queue, until a decision or the end of its SLA.
        const sla = slaMs(task.approvalPolicy);
        changes.push({ taskType, state: 'READY', reason: AWAITING_APPROVAL, notBefore: sla === undefined ? NO_SLA : this.now() + sla });
      } else {
        changes.push({ taskType, state: 'READY', reason: 'ready to run' });
      }
    }
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
  private outcomeChange(job: JobRow, definition: JobDefinition, plan: Plan, at: Date): JobChange {
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
      kill: null,
      ...(hard ? { outputs: {} } : {}),
    }));
  }

  /**
   * PENDING -> READY for a page of jobs: each may start and its first tasks become READY. The jobs
   * are read in one statement and written in one store transaction (`applyMany`), each at the
   * revision read; with `maxConcurrency` the store admits a job only while fewer jobs of its type
   * are admitted (counted in the transaction). True for each job admitted; false when it is no
   * longer PENDING, changed since it was read, held by another queen's transaction, or its type is
   * full. Nothing is re-planned: a job still PENDING is seen again by the next scheduler pass.
   */
  /** `reason`: the admission's timeline reason when it is not plain `admitted` (e.g. past a soft quota). */
  async admitMany(
    admissions: readonly { readonly jobId: string; readonly maxConcurrency?: number; readonly reason?: string }[],
  ): Promise<readonly boolean[]> {
    const found = await this.store.jobsWithTasks(admissions.map((admission) => admission.jobId));
    const batch: { jobId: string; prepared: Prepared }[] = [];
    const positions: number[] = [];
    for (const [i, { jobId, maxConcurrency, reason }] of admissions.entries()) {
      const read = found.get(jobId);
      if (read?.job.state !== 'PENDING') continue;
      const loaded = { ...read, definition: await this.hooks.definition(read.job.jobType, read.job.version) };
      const admitWithin = maxConcurrency === undefined ? {} : { admitWithin: maxConcurrency };
      const prepared = this.prepare(
        loaded,
        this.skipStep(loaded) ?? { job: { state: 'READY', reason: reason ?? 'admitted', deadlineAt: null, endedAt: null, ...admitWithin } },
      );
      if (!prepared) continue;
      batch.push({ jobId, prepared });
      positions.push(i);
    }
    const admitted: boolean[] = admissions.map(() => false);
    if (batch.length === 0) return admitted;
    const written = await this.store.applyMany(batch.map(({ jobId, prepared }) => ({ jobId, changes: prepared.changes })));
    for (const [k, events] of written.entries()) {
      if (!events) continue;
      batch[k]!.prepared.committed(events);
      admitted[positions[k]!] = true;
    }
    return admitted;
  }

  /**
   * A job whose `skip_if` says skip ends at admission, COMPLETED with every task SKIPPED, without
   * taking a `max_concurrency` place; one whose `skip_if` cannot be evaluated ends FAILED saying why.
   */
  private skipStep({ job, tasks, definition }: Loaded): Step | undefined {
    let reason: string | undefined;
    let state: 'COMPLETED' | 'FAILED' = 'COMPLETED';
    try {
      reason = jobSkipReason(definition, job);
    } catch (error) {
      reason = `skip_if could not be evaluated: ${error instanceof Error ? error.message : String(error)}`;
      state = 'FAILED';
    }
    if (reason === undefined) return undefined;
    const endedAt = new Date(this.now());
    return {
      planned: false,
      job: { state, reason, endedAt, deadlineAt: null },
      tasks: tasks.map((t) => ({ taskType: t.taskType, state: 'SKIPPED' as const, reason, endedAt })),
    };
  }

  /**
   * An attempt's result, from whichever ant ran it. Rejected (undefined) when the attempt is not the
   * task's current, running one: the fencing check, for a late result after a cancel or a reap.
   * `note` is added to the reason the timeline shows.
   */
  attemptFinished(
    jobId: string,
    taskType: string,
    attempt: number,
    result: AttemptResult,
    outputs: Readonly<Record<string, string>>,
    expect?: AttemptEnd['expect'],
    note?: string,
  ): Promise<Verdict | undefined> {
    const decide = ({ job, tasks, definition }: Loaded): Decision<Verdict | undefined> => {
      const row = tasks.find((t) => t.taskType === taskType);
      const task = definition.tasks.find((t) => t.taskType === taskType);
      if (!row || !task || row.state !== 'EXECUTING' || row.attempt !== attempt) return { result: undefined };
      const judged: Verdict =
        row.kill === TIMEOUT_KILL
          ? { kind: 'failed', fatal: false, reason: TIMEOUT_KILL }
          : row.kill?.startsWith(PREEMPT_KILL)
            ? { kind: 'retry', delayMs: 0, reason: row.kill }
            : judgeAttempt(task, result, row.runAttempts, this.hooks.retryDelay);
      // `note`: what the timeline should say beside the verdict (which copy of a speculative pair won).
      const verdict: Verdict = note === undefined ? judged : { ...judged, reason: `${judged.reason}; ${note}` };
      const now = this.now();
      const exitCode = result.exitCode ?? null;
      const attemptState = verdict.kind === 'completed' || verdict.kind === 'approval' ? 'COMPLETED' : 'FAILED';
      const change: TaskChange =
        verdict.kind === 'retry'
          ? { taskType, state: 'READY', reason: verdict.reason, exitCode, outputs, notBefore: now + verdict.delayMs, kill: null }
          : verdict.kind === 'approval'
            ? // WAIT_FOR_APPROVAL: out of the ready queue, as a MANUAL task waits, until a decision ends it.
              {
                taskType,
                state: 'READY',
                reason: `${AWAITING_APPROVAL} (${verdict.reason})`,
                exitCode,
                outputs,
                notBefore: NO_SLA,
                kill: null,
              }
            : {
                taskType,
                state: attemptState,
                reason: verdict.reason,
                exitCode,
                outputs,
                route: verdict.route ?? null,
                fatal: verdict.kind === 'failed' && verdict.fatal,
                endedAt: new Date(now),
                kill: null,
              };
      const override: TaskSnapshot = {
        state: change.state!,
        route: verdict.kind === 'retry' || verdict.kind === 'approval' ? undefined : verdict.route,
        fatal: verdict.kind === 'failed' && verdict.fatal,
        reason: verdict.reason,
      };
      const end: AttemptEnd = {
        taskType,
        attempt,
        state: attemptState,
        exitCode: result.exitCode,
        reason: verdict.reason,
        ...(result.cpuMs === undefined ? {} : { cpuMs: result.cpuMs }),
        ...(expect === undefined ? {} : { expect }),
      };
      return {
        result: verdict,
        step: {
          tasks: [{ ...change, expect: { state: 'EXECUTING', attempt } }],
          attempts: [end],
          overrides: new Map([[taskType, override]]),
          // PAUSE_JOB: nothing new starts until the delay has passed and a queen resumes the job.
          ...(verdict.kind === 'retry' && verdict.pauseJob && RUNNABLE_JOB_STATES.includes(job.state)
            ? { job: { state: 'PAUSED' as const, reason: `paused by ${taskType}: ${verdict.reason}` } }
            : {}),
        },
      };
    };
    // The reaper's conditional end decides alone (the store refuses it in a batch).
    const basis = this.takeKnown(jobId);
    return expect === undefined ? this.batched(jobId, decide, basis) : this.transact(jobId, decide, basis);
  }

  /** Cancels a job that has not ended: running attempts are killed by their owners, nothing new starts. */
  cancel(jobId: string, reason = 'cancelled'): Promise<void> {
    return this.transact(jobId, ({ job }) => {
      this.refuse('cancel', job);
      return { result: undefined, step: { stop: 'cancel', job: { stop: 'cancel', reason } } };
    });
  }

  /**
   * READY or EXECUTING -> PAUSED: nothing new starts (the scheduler and `claim` only take tasks of
   * READY/EXECUTING jobs); running attempts finish and their results are judged as usual.
   */
  pause(jobId: string, reason = 'paused'): Promise<void> {
    return this.transact(jobId, ({ job }) => {
      this.refuse('pause', job);
      return { result: undefined, step: { planned: false, job: { state: 'PAUSED', reason } } };
    });
  }

  /** PAUSED -> the state it was paused in, re-planned from what finished meanwhile. */
  async resume(jobId: string): Promise<void> {
    const timeline = await this.store.timeline(jobId);
    const paused = timeline.findLast((event) => event.taskType === undefined && event.to === 'PAUSED');
    const state = paused?.from === 'EXECUTING' ? 'EXECUTING' : 'READY';
    return this.transact(jobId, ({ job }) => {
      this.refuse('resume', job);
      return { result: undefined, step: { job: { state, reason: 'resumed' } } };
    });
  }

  /** FAILED or CANCELLED -> PENDING: failed, cancelled and skipped tasks run again (hard: every task). */
  restart(jobId: string, hard: boolean): Promise<void> {
    return this.transact(jobId, ({ job, tasks }) => {
      this.refuse('restart', job);
      const reason = hard ? 'restarted (hard)' : 'restarted';
      return {
        result: undefined,
        step: {
          planned: false,
          job: { state: 'PENDING', reason, stop: null, endedAt: null, scheduledAt: new Date(this.now()), deadlineAt: null },
          tasks: this.resets(snapshotOf(tasks, job.stop, new Map()), hard, reason),
        },
      };
    });
  }

  /**
   * The job ran past its timeout: its running tasks are marked (their attempts fail with "job
   * timeout", without retry, and their owners kill them), always_run tasks still run.
   */
  timeout(jobId: string): Promise<void> {
    return this.transact(jobId, ({ job, tasks }) => {
      if (!RUNNABLE_JOB_STATES.includes(job.state) || job.stop !== undefined) return { result: undefined };
      const marks: TaskChange[] = tasks.filter((t) => t.state === 'EXECUTING').map((t) => ({ taskType: t.taskType, kill: TIMEOUT_KILL }));
      return { result: undefined, step: { stop: 'timeout', job: { stop: 'timeout', deadlineAt: null }, tasks: marks } };
    });
  }

  /**
   * Marks a running attempt preempted (the scheduling framework wants its place): its owner signals it, kills
   * it once `graceMs` is over (else after its ant's own kill grace), and its result is judged a retry at once. False when the attempt is no longer the task's running
   * one or already carries a mark.
   */
  preempt(jobId: string, taskType: string, attempt: number, reason: string, graceMs?: number): Promise<boolean> {
    const mark = `${PREEMPT_KILL}: ${reason}${graceMs === undefined ? '' : `; grace ${Math.round(graceMs)} ms`}`;
    return this.transact<boolean>(jobId, ({ tasks }) => {
      const row = tasks.find((t) => t.taskType === taskType);
      if (row?.state !== 'EXECUTING' || row.attempt !== attempt || row.kill !== undefined) return { result: false };
      return { result: true, step: { tasks: [{ taskType, kill: mark }] } };
    });
  }

  /**
   * Puts back an attempt that was claimed but must not run yet (an open circuit breaker says wait):
   * the attempt ends CANCELLED, the task is READY again from `notBefore`, and no retry is used up.
   * False when the attempt is no longer the task's running one.
   */
  requeue(jobId: string, taskType: string, attempt: number, reason: string, notBefore: number): Promise<boolean> {
    return this.transact<boolean>(jobId, ({ tasks }) => {
      const row = tasks.find((t) => t.taskType === taskType);
      if (row?.state !== 'EXECUTING' || row.attempt !== attempt) return { result: false };
      const change: TaskChange = { taskType, state: 'READY', reason, notBefore, runAttempts: Math.max(0, row.runAttempts - 1), kill: null };
      return {
        result: true,
        step: {
          tasks: [change],
          attempts: [{ taskType, attempt, state: 'CANCELLED', reason }],
          overrides: new Map([[taskType, { state: 'READY' as const, fatal: false, reason }]]),
        },
      };
    });
  }

  /**
   * A MANUAL task's decision: the waiting task ends as its routes say (APPROVED like a success,
   * REJECTED like a failure, without retry), with `reason` (who decided, their comments) in the
   * timeline. The write is a compare-and-set on the job and expects the task still waiting, so of
   * two approvers or queens deciding at once exactly one decides; the other gets false.
   */
  decideApproval(jobId: string, taskType: string, decision: ApprovalDecision, reason: string): Promise<boolean> {
    return this.transact<boolean>(jobId, ({ job, tasks, definition }) => {
      const row = tasks.find((t) => t.taskType === taskType);
      const task = definition.tasks.find((t) => t.taskType === taskType);
      // A MANUAL task, or any task an attempt sent to WAIT_FOR_APPROVAL.
      if (!row || !task || !awaitingApproval(row)) return { result: false };
      if (!RUNNABLE_JOB_STATES.includes(job.state)) {
        throw new SupervisorError(`job ${jobId} is ${job.state}: a decision is taken while the job is READY or EXECUTING`, 'conflict');
      }
      const judged = judgeAttempt(decisionView(task), { succeeded: decision === 'APPROVED' }, 1, () => 0);
      // A route back to WAIT_FOR_APPROVAL would wait again: the decision ends the task by its own routes.
      const verdict: Verdict =
        judged.kind !== 'approval'
          ? judged
          : decision === 'APPROVED'
            ? { kind: 'completed', ...(task.onCompleted === undefined ? {} : { route: task.onCompleted }), reason }
            : { kind: 'failed', fatal: false, ...(task.onFailed === undefined ? {} : { route: task.onFailed }), reason };
      const state = verdict.kind === 'completed' ? 'COMPLETED' : 'FAILED';
      const route = verdict.kind === 'retry' ? undefined : verdict.route;
      const fatal = verdict.kind === 'failed' && verdict.fatal;
      const change: TaskChange = {
        taskType,
        expect: { state: 'READY' },
        state,
        reason,
        route: route ?? null,
        fatal,
        notBefore: null,
        endedAt: new Date(this.now()),
      };
      return {
        result: true,
        step: { tasks: [change], overrides: new Map([[taskType, { state, ...(route === undefined ? {} : { route }), fatal, reason }]]) },
      };
    });
  }

  /**
   * A MANUAL task whose SLA passed with `ESCALATE`: it keeps waiting, without an end, under `reason`.
   * True for the one caller that made the change (several queens may sweep the same lapse).
   */
  escalateApproval(jobId: string, taskType: string, reason: string): Promise<boolean> {
    return this.transact<boolean>(jobId, ({ job, tasks }) => {
      const row = tasks.find((t) => t.taskType === taskType);
      const lapsed = row !== undefined && awaitingApproval(row) && row.notBefore !== undefined && row.notBefore <= this.now();
      if (!lapsed || !RUNNABLE_JOB_STATES.includes(job.state)) return { result: false };
      return { result: true, step: { planned: false, tasks: [{ taskType, expect: { state: 'READY' }, reason, notBefore: NO_SLA }] } };
    });
  }

  /** Re-plans a job from its stored state (after an automatic job retry or a restart of the queen). */
  replan(jobId: string): Promise<void> {
    return this.transact(jobId, ({ job }) => {
      if (!RUNNABLE_JOB_STATES.includes(job.state)) return { result: undefined };
      return { result: undefined, step: {} };
    });
  }

  /**
   * An attempt whose owner is gone (its lease expired, or its queen's process is known dead): judged
   * as a failed attempt with `reason`, retried if the task has retries left, otherwise FAILED. An
   * attempt row left open by a task that had moved on is just closed. `expect` makes the write
   * conditional on the lease still being expired (or the owner unchanged) inside the transaction.
   */
  async recoverAttempt(jobId: string, taskType: string, attempt: number, reason: string, expect?: AttemptEnd['expect']): Promise<void> {
    const verdict = await this.attemptFinished(jobId, taskType, attempt, { succeeded: false, error: reason }, {}, expect);
    if (verdict) return;
    const events = await this.store.apply(jobId, {
      at: new Date(this.now()),
      attempts: [{ taskType, attempt, state: 'FAILED', reason, ...(expect === undefined ? {} : { expect }) }],
    });
    if (events) this.hooks.committed(events);
  }
}
