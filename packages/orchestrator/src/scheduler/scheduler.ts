import type { Logger } from 'pino';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import { plus } from '../domain/quantities.js';
import type { Supervisor } from '../engine/supervisor.js';
import type { AdmissionKind, AdmittedNext, JobStore, ReadyTask, TaskKind } from '../store/store.js';
import { AdmissionKinds } from './admission-kinds.js';
import { SchedulingFeed } from './feed.js';
import { hasRoom, placementNeeds } from './placement.js';
import { type AntSlot, type Backup, canRun, type PassReport, type Placement, priorityPolicy, type SchedulingPolicy } from './policy.js';
import { QuotaGate, type QuotaWarning, softQuotaReason } from './quota-gate.js';
import { TaskKinds } from './task-kinds.js';
import type { Wake } from './wakeups.js';

/** A task placed on an ant, with the resources it holds there while it runs. */
export interface PlannedStart {
  readonly task: ReadyTask;
  readonly ant: AntSlot;
  readonly resources: Readonly<Record<string, number>>;
}

export interface SchedulerOptions {
  readonly store: JobStore;
  readonly supervisor: Supervisor;
  /** This queen's ants as slots (the ant registry). */
  readonly ants: { slots(): AntSlot[] };
  readonly policy: SchedulingPolicy;
  readonly definition: (jobType: string, version: number) => Promise<JobDefinition>;
  /**
   * Claims the tasks for their ants in one store transaction and sends the assignments; returns how many started.
   * The store refuses a placement whose resources another queen's claim took first; it is planned again next pass.
   */
  readonly startTasks: (placements: readonly PlannedStart[]) => Promise<number>;
  /**
   * Picks and claims the next ready tasks of the `take` kinds for one ant's free slots in one store step,
   * passing over the `skip` kinds, and sends the assignments (issue 11: several queens take disjoint work
   * instead of racing for one ready page). Returns how many started and the picked tasks left unclaimed (from
   * the first one of another kind on); undefined when the store picks in the scheduler (SQLite). Absent, or
   * with a policy that orders or places by itself, every pass reads the ready page and places each task.
   */
  readonly startNext?: (request: {
    readonly ant: AntSlot;
    readonly limit: number;
    readonly take: readonly (TaskKind & { readonly jobTimeoutMs?: number })[];
    readonly skip: readonly TaskKind[];
  }) => Promise<{ readonly started: number; readonly unclaimed: readonly ReadyTask[] } | undefined>;
  /**
   * Has the store admit the next due jobs of the kinds in `take` in one step (issue 11; see `JobStore.admitNext`)
   * and reports their timeline rows; undefined when the store admits only through the supervisor (SQLite).
   */
  readonly admitNext?: (request: { readonly limit: number; readonly take: readonly AdmissionKind[] }) => Promise<AdmittedNext | undefined>;
  /** False when a task of this definition needs what the scheduler's path takes before a claim (consumable units). */
  readonly plainTask?: (definition: JobDefinition, taskType: string) => boolean;
  /**
   * Starts a backup copy of a running attempt on `ant` (speculative execution); false when the attempt no longer
   * runs. Absent: no backups.
   */
  readonly startBackup?: (backup: Backup, ant: AntSlot, resources: Readonly<Record<string, number>>) => Promise<boolean>;
  /** Runs at the start of each pass: the lease reaper. */
  readonly reap?: (now: number) => Promise<void>;
  readonly logger: Logger;
  /** The longest the scheduler sleeps without a reason to wake (a safety net; work pokes it). */
  readonly pollIntervalMs?: number;
  /** Jobs read per page when admitting; more passes follow at once while jobs are admitted. */
  readonly admitBatch?: number;
  /** Pages of due jobs one pass looks at before it yields (default 4). */
  readonly pagesPerPass?: number;
  /** Told after every pass (metrics). */
  readonly onPass?: (report: PassReport) => void;
}

/**
 * How often, at most, a pass started by a change also runs the time-based sweeps (the lease reaper,
 * job deadlines, approval SLAs). Under load every change starts a pass; those sweeps look for what
 * time made due, not for what the change did, and were most of a pass's reads. A pass the timer
 * starts (at the store's next wake-up) always sweeps.
 */
const SWEEP_EVERY_MS = 100;

/**
 * The job scheduler: admits due jobs (priority, submission time, scheduled_at, max_concurrency)
 * and starts READY tasks on ants with free capacity. One pass at a time; `poke` asks for another.
 *
 * The seam a scheduling framework plugs into: a pass reads a snapshot (a page of due jobs, a page
 * of ready tasks, this queen's ant slots), the policy decides (order, placement), and the store
 * applies the decisions atomically: an admission is a compare-and-set that counts max_concurrency
 * inside the page's transaction (`admitMany`), the starts of a page are one `claimMany`. A pass is bounded (a few pages)
 * and yields between passes, so no policy can freeze the queen; several queens run passes at once.
 */
export class Scheduler {
  private running = false;
  private pass?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private readonly pollIntervalMs: number;
  private readonly admitBatch: number;
  private readonly pagesPerPass: number;
  /** Reads what runs and ran for a policy that observes it (frameworkPolicy). */
  private readonly feed?: SchedulingFeed;
  private tally = { admitted: 0, started: 0, quotaWarnings: [] as QuotaWarning[] };
  /** When the time-based sweeps last ran, and whether the timer (not a change) started this pass. */
  private sweptAt = Number.NEGATIVE_INFINITY;
  private woken = false;
  /**
   * Whether the last pass left work it could not start (a job held back, a ready task no ant took,
   * a full page): only then do ends (`freed`) need a pass. Unknown, so true, until a pass says.
   */
  private leftWork = true;
  /** Set by this pass wherever it leaves work behind or cannot tell; `leftWork` when it is over. */
  private leavesWork = false;
  /** Ends that came while a pass ran: they need another one if that pass leaves work. */
  private freedMeanwhile = false;
  /**
   * Counts the pokes that may bring jobs to admit (`work`, and the timer for what time made due); `drainedAt`
   * is the count an in-store admission round started at when it found every due job admitted and none held
   * back. While the two are equal no job can be waiting for admission, so a pass skips the statement: in a
   * drain every pass is started by ends, and asking the store to admit once per claim was one round trip in
   * five. A poke during the round moves the count past it, so a job submitted meanwhile is never skipped
   * (the count only grows, so an old `drainedAt` never matches again).
   */
  private workPokes = 0;
  private drainedAt?: number;
  /** Organisations' and users' quotas, where the store keeps them (issue 17). */
  private readonly quotaGate?: QuotaGate;
  /** The kinds of ready task seen, for picking in the store; undefined when the scheduler picks (see `startNext`). */
  private kinds?: TaskKinds;
  /** The kinds of job seen, for admitting in the store; undefined when every admission is planned here (see `admitInStore`). */
  private admissionKinds?: AdmissionKinds;

  constructor(private readonly options: SchedulerOptions) {
    if (options.policy.observe) this.feed = new SchedulingFeed({ store: options.store, definition: options.definition });
    const quotas = options.store.quotas?.();
    if (quotas) this.quotaGate = new QuotaGate(quotas);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.admitBatch = options.admitBatch ?? 500;
    this.pagesPerPass = options.pagesPerPass ?? 4;
    const { policy } = options;
    // The store's order is priority then submission, and it fills each ant in turn: only for a policy that
    // orders and places as the priority policy does (its own functions: a copy that replaces one does not
    // qualify) and asks for nothing else (no view of the cluster to order by, no preemption).
    const storeOrdered = policy.orderTasks === priorityPolicy.orderTasks && policy.placeTask === priorityPolicy.placeTask;
    if (options.startNext && storeOrdered && !policy.observe && !policy.preempt)
      this.kinds = new TaskKinds(options.definition, options.plainTask);
    // Likewise for admissions: the store's order is the priority policy's own order of jobs.
    if (options.admitNext && policy.orderJobs === priorityPolicy.orderJobs && !policy.observe)
      this.admissionKinds = new AdmissionKinds(options.definition);
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

  /** Asks for a pass; `wake` says what changed (scheduler/wakeups.ts), `work` when it is not known. */
  poke(wake: Wake = 'work'): void {
    if (wake === 'work') this.workPokes++;
    if (!this.running || wake === 'none') return;
    if (wake === 'freed' && this.pass) {
      this.freedMeanwhile = true;
      return;
    }
    if (wake === 'freed' && !this.leftWork) return;
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
    for (;;) {
      do {
        // Each pass starts on a fresh turn of the event loop: requests and results get their turn.
        await new Promise((resolve) => setImmediate(resolve));
        this.again = false;
        this.freedMeanwhile = false;
        this.leavesWork = false;
        const started = performance.now();
        let failed = false;
        try {
          if (await this.once()) this.again = true;
        } catch (error) {
          failed = true;
          this.leavesWork = true;
          this.options.logger.error({ err: error }, 'scheduler pass failed');
        }
        this.leftWork = this.leavesWork;
        this.report((performance.now() - started) / 1000, failed);
      } while (this.wanted());
      if (!this.running) return;
      // Only what becomes due later: a due job a pass held back (max_concurrency, a quota) is woken for
      // by the end that frees its place; timing it at 0 ms made the queen spin (~580 passes/s with one held job).
      const now = Date.now();
      const wake = await this.options.store.nextWakeAt(now).catch(() => undefined);
      // A poke while that was read found this loop still running and only left word: it was not for the timer.
      if (this.wanted()) continue;
      const delay = wake === undefined ? this.pollIntervalMs : Math.min(Math.max(wake - now, 0), this.pollIntervalMs);
      this.timer = setTimeout(() => {
        this.woken = true;
        this.poke();
      }, delay);
      return;
    }
  }

  /** Whether another pass is due at once: asked for, or ends came while work was left. */
  private wanted(): boolean {
    return this.running && (this.again || (this.freedMeanwhile && this.leftWork));
  }

  private report(seconds: number, failed: boolean): void {
    const { onPass, policy } = this.options;
    const tally = policy.drainTally?.() ?? { holds: {}, preemptions: 0, speculativeLaunches: 0 };
    const counted = this.tally;
    this.tally = { admitted: 0, started: 0, quotaWarnings: [] };
    try {
      onPass?.({ seconds, failed, ...counted, ...tally });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'scheduler pass listener threw');
    }
  }

  /** One pass; true when it stopped early and more work is due at once. */
  private async once(): Promise<boolean> {
    const { store, supervisor, policy } = this.options;
    const now = Date.now();
    // What these policies hold back or start is not all seen here: every end may matter to them.
    if (policy.observe || policy.preempt || policy.speculate) this.leavesWork = true;
    if (this.woken || now - this.sweptAt >= SWEEP_EVERY_MS) {
      this.woken = false;
      this.sweptAt = now;
      await this.options.reap?.(now);
      for (const job of await store.expiredJobs(now)) await supervisor.timeout(job.id);
    }
    const moreDue = await this.admit(now);
    const moreReady = await this.dispatch(now);
    await this.speculate(now);
    return moreDue || moreReady;
  }

  /**
   * Admits due jobs in policy order, a page at a time, at most `pagesPerPass` pages. Jobs the policy
   * leaves out or max_concurrency holds back stay PENDING and are paged past, so a long queue of one
   * capped type cannot starve the others. True when it admitted jobs and more may be due.
   */
  private async admit(now: number): Promise<boolean> {
    if (this.drainedAt === this.workPokes) return false;
    if (this.admissionKinds) {
      const done = await this.admitInStore(this.admissionKinds);
      if (done !== undefined) return done;
    }
    const { store, supervisor, policy } = this.options;
    // A hint to skip jobs of a type known to be full (the store decides each admission itself),
    // read only when a page holds a capped type: it counts every admitted job.
    let active: Map<string, number> | undefined;
    let passedOver = 0;
    let admitted = 0;
    for (let page = 0; page < this.pagesPerPass; page++) {
      // Admitted jobs leave PENDING, so the jobs before the next page are exactly those passed over.
      const due = await store.duePendingJobs(now, this.admitBatch, passedOver);
      if (this.feed) policy.observe?.(await this.feed.read(now, due));
      // The page's admissions go to the store as one transaction; a capped type gets only as many
      // tries as it has free places (each admission is still counted in the store).
      const admissions: { jobId: string; maxConcurrency?: number; reason?: string }[] = [];
      const ordered = policy.orderJobs(due, now);
      // A job at a hard quota is held (GET /api/jobs/:id/scheduling says why); one past a soft quota is admitted with a warning.
      const ids = ordered.map((job) => job.id);
      const quota = this.quotaGate ? await this.quotaGate.judge(ids, now) : new Map();
      const warned = new Map<string, QuotaWarning>();
      for (const job of ordered) {
        if (!this.running) break;
        const verdict = quota.get(job.id);
        if (verdict?.hold) continue;
        const definition = await this.options.definition(job.jobType, job.version);
        const max = definition.maxConcurrency;
        if (max !== undefined) {
          active ??= new Map(await store.activeJobsByType());
          const count = active.get(job.jobType) ?? 0;
          if (count >= max) continue;
          active.set(job.jobType, count + 1);
        }
        const warnings = verdict?.warnings ?? [];
        if (warnings.length > 0) warned.set(job.id, { jobId: job.id, ...verdict!.subject, breaches: warnings });
        admissions.push({
          jobId: job.id,
          ...(max === undefined ? {} : { maxConcurrency: max }),
          ...(warnings.length > 0 && { reason: softQuotaReason(warnings) }),
        });
      }
      const results = await supervisor.admitMany(admissions);
      for (const [i, ok] of results.entries()) {
        const warning = ok ? warned.get(admissions[i]!.jobId) : undefined;
        if (warning) this.tally.quotaWarnings.push(warning);
      }
      const admittedHere = results.filter(Boolean).length;
      if (admittedHere < due.length) this.leavesWork = true;
      if (!this.running) return false;
      admitted += admittedHere;
      this.tally.admitted += admittedHere;
      passedOver += due.length - admittedHere;
      if (due.length < this.admitBatch) return false;
    }
    return admitted > 0;
  }

  /**
   * Has the store admit due jobs in its order, a page of `admitBatch` at a time, at most `pagesPerPass` pages.
   * A job of a kind not seen before stops the store there (nothing jumps it): its kind is learnt and the store
   * asked again. True or false as `admit` returns; undefined when the page path must run too: the store stopped at
   * a job the supervisor must plan (its kind, its organisation's quotas, a job retry), or jobs of a full type
   * filled the page (that path pages past them), or the store admits only through the supervisor.
   */
  private async admitInStore(kinds: AdmissionKinds): Promise<boolean | undefined> {
    for (let round = 0; round < this.pagesPerPass && this.running; round++) {
      const pokes = this.workPokes;
      const result = await this.options.admitNext!({ limit: this.admitBatch, take: kinds.take() });
      if (result === undefined) {
        this.admissionKinds = undefined;
        return undefined;
      }
      this.tally.admitted += result.admitted;
      const stop = result.stoppedAt;
      if (stop !== undefined) {
        if (!stop.known && (await kinds.learn(stop.jobType, stop.version))) continue;
        return undefined;
      }
      if (result.held > 0 || result.admitted < result.picked) this.leavesWork = true;
      else if (result.picked < this.admitBatch) this.drainedAt = pokes;
      if (result.picked < this.admitBatch) return false;
      if (result.held > 0) return undefined;
    }
    this.leavesWork = true;
    return true;
  }

  /**
   * Starts READY tasks on ants with a free slot, a page at a time until the slots are used or the
   * ready tasks are exhausted, so tasks no ant can take (a missing method or tag) do not block the
   * runnable ones behind them. Each page's placements are claimed in one store transaction. True when
   * it stopped at its page limit with slots still free after starting tasks: another pass follows at
   * once (pages that started nothing do not loop: what no ant can take waits for a change).
   */
  private async dispatch(now: number): Promise<boolean> {
    if (this.kinds && (await this.dispatchInStore(this.kinds))) return false;
    const { store, ants, policy } = this.options;
    let passedOver = 0;
    let startedHere = 0;
    for (let page = 0; page < this.pagesPerPass && this.running; page++) {
      const slots = new Map(ants.slots().map((slot) => [slot.id, { ...slot }]));
      let free = [...slots.values()].reduce((sum, slot) => sum + Math.max(0, slot.capacity - slot.running), 0);
      if (free === 0) {
        this.leavesWork = true;
        if (page === 0 && policy.preempt) await this.preemptFor(now, [...slots.values()]);
        return false;
      }
      const size = free + 64;
      const ready = await store.readyTasks(now, size, passedOver);
      if (this.feed) policy.observe?.(await this.feed.read(now, ready));
      const placements: PlannedStart[] = [];
      for (const task of policy.orderTasks(ready, now)) {
        if (free === 0) break;
        const placed = await this.place(task, [...slots.values()]);
        if (!placed) continue;
        const { ant, resources } = placed;
        placements.push({ task, ant, resources });
        slots.set(ant.id, { ...ant, running: ant.running + 1, used: plus(ant.used ?? {}, resources) });
        free--;
      }
      const started = placements.length > 0 ? await this.options.startTasks(placements) : 0;
      this.tally.started += started;
      startedHere += started;
      // Tasks started leave READY; the others (no ant could take them, or another queen did) are paged past.
      passedOver += ready.length - started;
      // A full ant may be the only one some ready task could use (its tags, its resources): its end matters.
      if (started < ready.length || free === 0) this.leavesWork = true;
      if (ready.length < size) return false;
    }
    this.leavesWork = true;
    return this.running && startedHere > 0;
  }

  /**
   * Each ant with free slots (the least loaded first) has the store pick and claim its next ready tasks of the
   * kinds it takes as they come. A task of a kind not seen before stops the claim there (nothing jumps it): its
   * kind is learnt and the ant asks again; one the scheduler must place (resources, units) is left to the
   * ready-page path. True when done; false when that path must run too (or the store picks in the scheduler).
   */
  private async dispatchInStore(kinds: TaskKinds): Promise<boolean> {
    const { ants, startNext } = this.options;
    let placeToo = false;
    for (let round = 0; round < this.pagesPerPass && this.running; round++) {
      const slots = ants.slots();
      // A full ant may be the only one some ready task could use (its tags, its method): its end matters.
      if (slots.some((ant) => ant.capacity > 0 && ant.running >= ant.capacity)) this.leavesWork = true;
      const free = slots.filter((ant) => ant.running < ant.capacity).sort((a, b) => a.running / a.capacity - b.running / b.capacity);
      if (free.length === 0) return !placeToo;
      let learnt = false;
      for (const ant of free) {
        if (!this.running) return true;
        const { take, skip } = kinds.forAnt(ant);
        const result = await startNext!({ ant, limit: ant.capacity - ant.running, take, skip });
        if (result === undefined) {
          this.kinds = undefined;
          return false;
        }
        this.tally.started += result.started;
        if (result.unclaimed.length > 0 || result.started >= ant.capacity - ant.running) this.leavesWork = true;
        if (await kinds.learn(result.unclaimed)) learnt = true;
        if (result.unclaimed.some((task) => kinds.mustPlace(task, [ant]))) placeToo = true;
      }
      if (!learnt) return !placeToo;
    }
    // Kinds still being learnt after the last round: the ready-page path places this pass's tasks.
    return false;
  }

  /** The ant the policy picks among those able to take the task now (a free slot, its resources free), or undefined. */
  private async place(
    task: ReadyTask,
    slots: readonly AntSlot[],
  ): Promise<{ ant: AntSlot; resources: Placement['needs']['resources'] } | undefined> {
    const placement = await this.placementOf(task);
    if (!placement) return undefined;
    const candidates = slots.filter((ant) => ant.running < ant.capacity && canRun(ant, placement) && hasRoom(ant, placement.needs));
    const ant = candidates.length > 0 ? this.options.policy.placeTask(placement, candidates) : undefined;
    return ant && { ant, resources: placement.needs.resources };
  }

  private async placementOf(task: ReadyTask): Promise<Placement | undefined> {
    const definition = await this.options.definition(task.jobType, task.version);
    const taskDefinition = definition.tasks.find((t) => t.taskType === task.taskType);
    if (!taskDefinition) return undefined;
    let needs = this.taskNeeds.get(taskDefinition);
    if (needs === undefined) {
      needs = {
        method: taskDefinition.method,
        tags: [...new Set([...definition.tags, ...taskDefinition.tags])],
        needs: placementNeeds(definition, taskDefinition),
      };
      this.taskNeeds.set(taskDefinition, needs);
    }
    return { ...task, ...needs };
  }

  /** What placement needs of a task, worked out once per definition object: every pass asks it of every ready task. */
  private readonly taskNeeds = new WeakMap<TaskDefinition, Pick<Placement, 'method' | 'tags' | 'needs'>>();

  /**
   * Stragglers get a backup copy on another of this queen's ants with a free slot, where the task's method, tags,
   * labels and resources fit (the policy chooses; at most its `maxPerPass`). Only after ready work was placed.
   */
  private async speculate(now: number): Promise<void> {
    const { policy, startBackup, store } = this.options;
    if (!policy.speculate || !startBackup || !this.running) return;
    const slots = this.options.ants.slots().filter((slot) => slot.running < slot.capacity);
    if (slots.length === 0) return;
    for (const backup of policy.speculate(slots, now)) {
      const job = await store.job(backup.jobId);
      const ant = slots.find((slot) => slot.id === backup.antId);
      if (!job || !ant) continue;
      const placement = await this.placementOf({
        ...job,
        jobId: job.id,
        taskType: backup.taskType,
        jobSeq: job.seq,
        org: job.org ?? 'default',
      });
      if (!placement || !canRun(ant, placement) || !hasRoom(ant, placement.needs)) continue;
      // A copy has no attempt row of its own, so the store's claim check cannot count it: it goes only where
      // nothing is metered, so no queen can over-fill an ant because of it.
      if (Object.keys(placement.needs.resources).length > 0 && Object.keys(ant.resources ?? {}).length > 0) continue;
      if (await startBackup(backup, ant, placement.needs.resources)) policy.launched?.(backup);
    }
  }

  /**
   * Every slot is busy: the policy may name running attempts to stop for the first ready task in its order
   * (priority preemption). Each is marked in the store, fenced by its attempt number; its owner kills it and its
   * task goes back to READY. One task per pass, so a pass stays bounded.
   */
  private async preemptFor(now: number, slots: readonly AntSlot[]): Promise<void> {
    const { store, policy, supervisor } = this.options;
    const ready = await store.readyTasks(now, 16);
    if (ready.length === 0) return;
    if (this.feed) policy.observe?.(await this.feed.read(now, ready));
    const head = policy.orderTasks(ready, now)[0];
    const placement = head && (await this.placementOf(head));
    if (!placement) return;
    const candidates = slots.filter((ant) => canRun(ant, placement));
    for (const victim of policy.preempt?.(placement, candidates) ?? []) {
      await supervisor.preempt(victim.jobId, victim.taskType, victim.attempt, victim.reason, victim.graceMs);
    }
  }
}
