import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { fullJitter } from '@myrmex/backoff';
import { parseTaint } from '@myrmex/scheduling';
import { type Logger, pino } from 'pino';
import { EmbeddedAnt } from '../ant/embedded-ant.js';
import { type AntMessage, assignmentId } from '../ant/protocol.js';
import { AntRegistry, slotsOf } from '../ant/registry.js';
import { RemoteAntHub } from '../ant/remote/hub.js';
import type { ArtifactCatalog, ArtifactRecord } from '../artifacts/catalog.js';
import { defaultBlobRoot, LocalBlobStore } from '../artifacts/local-store.js';
import { maskManifest, withheldLine } from '../artifacts/mask.js';
import { ArtifactQuotaExceeded, softQuotaLine } from '../artifacts/quota.js';
import type { BlobStore } from '../artifacts/store.js';
import { missingParams, parseJobDefinition, retryDelayMs } from '../definition/index.js';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import type { ApprovalStatus, TaskVote } from '../domain/approvals.js';
import type { BreakerSettings, BreakerState } from '../domain/circuit-breaker.js';
import { decodeJobCursor } from '../domain/cursor.js';
import { timeOrderedId } from '../domain/ids.js';
import { internalJobType, visibleJobType } from '../domain/job-type-names.js';
import { quantities } from '../domain/quantities.js';
import type { AttemptResult } from '../domain/types.js';
import { artifactFields, cacheJobId } from '../engine/artifacts.js';
import { renderTask } from '../engine/render.js';
import { killGraceMs, Supervisor, SupervisorError } from '../engine/supervisor.js';
import { type ConfiguredExecutors, configuredExecutors, type ExecutorConfig } from '../executors/configured.js';
import type { Executor, TaskSpec } from '../executors/executor.js';
import { createExpireArtifactsExecutor } from '../executors/expire-artifacts.js';
import { createAwaitForkedExecutor, createForkExecutor } from '../executors/fork.js';
import { builtInExecutors, type ShellExecutorOptions } from '../executors/index.js';
import { withStdoutReport } from '../executors/stdout-report.js';
import { withWorkspace } from '../executors/workspace.js';
import type { WaitStatus } from '../scheduler/explain.js';
import { type AntSlot, type Backup, type PassReport, priorityPolicy, type SchedulingPolicy } from '../scheduler/policy.js';
import { type PlannedStart, Scheduler, type SchedulerOptions } from '../scheduler/scheduler.js';
import { waitStatus } from '../scheduler/status.js';
import { wakeFor } from '../scheduler/wakeups.js';
import { JobMasking, type Masker, type SecretSource, secretReferences } from '../security/index.js';
import type { ConsumablePool } from '../store/consumables.js';
import { DEFAULT_ORG } from '../store/security.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import {
  type Change,
  type Claimed,
  type JobRow,
  type JobStore,
  type JobWithTasks,
  type ReadyTask,
  StaleDefinitionError,
  StoreError,
  type TaskRow,
} from '../store/store.js';
import { isStoreUnreachable } from '../store/unreachable.js';
import { QueenApprovals } from './approvals.js';
import { breakerHost, QueenBreakers } from './circuit-breakers.js';
import { consumableRequests, QueenConsumables } from './consumables.js';
import { CronTriggers } from './cron.js';
import { QueenError } from './errors.js';
import { type DeadLetterPage, QueenEvents, type Redriven } from './events.js';
import { QueenForks } from './forks.js';
import { AttemptLeases, HeldAttempts, newHolderId } from './lease.js';
import { LogHub } from './log-hub.js';
import type { NotifyOptions } from './notify.js';
import { PausedJobs } from './pauses.js';
import { RequestRenderings } from './request-render.js';
import {
  type AntInfo,
  type ApplyResult,
  type DefinitionVersion,
  JOB_STATES,
  type JobDetail,
  type JobQuery,
  type JobSummary,
  type LogLine,
  type Page,
  type QueenService,
  type SubmitRequest,
  type TaskDetail,
  TERMINAL_JOB_STATES,
  type TimelineEvent,
} from './service.js';
import { validateSubmit } from './validate.js';
import type { WebhookDelivery, WebhookOutcome } from './webhooks.js';

export interface QueenAntOptions {
  readonly id?: string;
  /** How many tasks the embedded ant runs at once. */
  readonly capacity: number;
  /** Defaults to every registered executor's method. */
  readonly methods?: readonly string[];
  readonly tags?: readonly string[];
  /** What node_selector and affinity match (`--ant-labels disk=ssd,zone=a`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Capacities placement requests are counted against (`--ant-resources cpu=8,memory=16Gi`); none: not metered. */
  readonly resources?: Readonly<Record<string, string>>;
  /** Taints that keep off tasks without a matching toleration (`--ant-taints gpu=true:NoSchedule`). */
  readonly taints?: readonly string[];
}

export interface QueenOptions {
  /** SQLite file (default ./.myrmex/myrmex.db) or `:memory:`; ignored when `store` is given. */
  readonly dbPath?: string;
  readonly store?: JobStore;
  /** The embedded ant; `capacity: 0` runs a queen without one. */
  readonly ant?: QueenAntOptions;
  readonly logger?: Logger;
  /** Extra executors (e.g. the benchmark's NOOP); a method given here replaces the built-in one. */
  readonly executors?: readonly Executor[];
  /** Sees each attempt's rendered spec just before it goes to its ant, embedded or remote, and may add to it (tracing's TRACEPARENT). */
  readonly prepareSpec?: (attempt: { jobId: string; taskType: string; attempt: number; antId: string }, spec: TaskSpec) => TaskSpec;
  readonly policy?: SchedulingPolicy;
  readonly shell?: ShellExecutorOptions;
  /** `{{.Secrets.NAME}}` at run time, and the values logs, outputs and errors are masked with (issue 17). */
  readonly secrets?: SecretSource;
  /** Containers (DOCKER, KUBERNETES on the same engine) and MESSAGING for the embedded ant. */
  readonly executorConfig?: ExecutorConfig;
  /** Where artifacts' bytes go (default: a LocalBlobStore beside the SQLite file); the store's catalog indexes them. */
  readonly blobs?: BlobStore;
  /** A blob written less than this long ago survives an artifact sweep (its row may be on its way); default 60 s. */
  readonly artifactSweepGraceMs?: number;
  /** How long `stop()` lets running tasks finish before killing them. */
  readonly shutdownGraceMs?: number;
  readonly pollIntervalMs?: number;
  /** How long an attempt stays this queen's without a renewal before any queen may take it over (default 15 s). */
  readonly attemptLeaseMs?: number;
  /** `cron_trigger` loop (on by default): `false` turns it off on this queen; `now` moves its clock (tests). */
  readonly cron?: false | { readonly now?: () => Date; readonly maxWaitMs?: number };
  /** How `notify` and job-level `webhook` messages go out (SMTP, Slack), retries and timeouts. */
  readonly notify?: NotifyOptions;
  /** Consumable pools declared (capacity set) when the queen starts: `{ License: 2 }` (MYRMEX_CONSUMABLES). */
  readonly consumables?: Readonly<Record<string, number>>;
  /** The circuit breaker every HTTP task goes through unless its definition says otherwise (MYRMEX_CIRCUIT_BREAKER); default none. */
  readonly circuitBreaker?: BreakerSettings;
}

const summary = (job: JobRow): JobSummary => ({
  id: job.id,
  jobType: job.jobType,
  version: job.version,
  state: job.state,
  priority: job.priority,
  params: job.params,
  submittedAt: job.submittedAt,
  scheduledAt: job.scheduledAt,
  ...(job.startedAt ? { startedAt: job.startedAt } : {}),
  ...(job.endedAt ? { endedAt: job.endedAt } : {}),
  retry: job.retry,
  ...(job.reason !== undefined ? { reason: job.reason } : {}),
});

/**
 * The queen: definitions, requests, the scheduler, the job supervisor and an embedded ant, on one
 * store. `Queen.open(...)` then `start()`; `stop()` shuts down gracefully.
 */
export class Queen implements QueenService {
  readonly logger: Logger;
  private readonly store: JobStore;
  private readonly executors: ReadonlyMap<string, Executor>;
  private readonly configured: ConfiguredExecutors;
  /** Which attempt left which artifacts; absent when the store keeps none (then artifacts are not collected). */
  private readonly catalog?: ArtifactCatalog;
  readonly blobs: BlobStore;
  private readonly forks: QueenForks;
  private readonly cron: CronTriggers;
  private readonly pausedJobs: PausedJobs;
  /** MANUAL tasks' votes and SLA sweep; absent when the store keeps no votes. */
  private readonly approvalsOf?: QueenApprovals;
  /** Webhooks, job triggers, notifications and dead letters; absent when the store keeps none. */
  private readonly events?: QueenEvents;
  /** Definitions with template actions, rendered again per request (Formicary's way). */
  private readonly renderings: RequestRenderings;
  /** Formicary's `resources` as counted units; absent when the store keeps no pools. */
  private readonly consumablesOf?: QueenConsumables;
  /** HTTP circuit breakers per target host; absent when the store keeps none. */
  private readonly breakers?: QueenBreakers;
  private readonly registry: AntRegistry;
  private readonly supervisor: Supervisor;
  private readonly scheduler: Scheduler;
  private readonly logs$: LogHub;
  private readonly definitions = new Map<string, Promise<JobDefinition>>();
  /**
   * The latest enabled definition of each job type this queen submitted, so a submit need not read
   * it first: the store's insert checks it is still the latest (`requireLatest`), and a stale one
   * (another queen applied or disabled it) is read again.
   */
  private readonly latest = new Map<string, DefinitionVersion>();
  private readonly listeners = new Set<(event: TimelineEvent) => void>();
  private readonly openedAt = Date.now();
  private ant?: EmbeddedAnt;
  /** This queen's name as the owner of the attempts it runs. */
  readonly id = newHolderId();
  private readonly leases: AttemptLeases;
  private readonly held: HeldAttempts;
  /** Remote ants connected to this queen over the WebSocket protocol (the API's ant socket route hands them over). */
  readonly remoteAnts: RemoteAntHub;
  private unsubscribe: () => void = () => {};
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private readonly passListeners = new Set<(report: PassReport) => void>();
  /** Assignments that run twice (a speculative backup was started): the copy left when one finishes is cancelled. */
  private readonly backups = new Set<string>();
  /** Set once stop() starts killing tasks: their results are left for recovery, like a crash. */
  private discardResults = false;
  /** Attempt results being recorded; stop() waits for them before closing the store. */
  private settled: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: QueenOptions,
    store: JobStore,
  ) {
    this.store = store;
    this.logger = options.logger ?? pino({ name: 'myrmex-queen', level: process.env.MYRMEX_LOG_LEVEL ?? 'warn' });
    const executors = new Map<string, Executor>();
    this.configured = configuredExecutors(this.antId, options.executorConfig ?? {});
    for (const executor of [...builtInExecutors({ shell: options.shell }), ...this.configured.executors, ...(options.executors ?? [])])
      executors.set(executor.method, executor);
    this.catalog = store.artifacts?.();
    const blobs = options.blobs ?? new LocalBlobStore(defaultBlobRoot(options.dbPath));
    this.blobs = blobs;
    this.forks = new QueenForks({ store, committed: (events) => this.committed(events), cancel: (id, reason) => this.cancel(id, reason) });
    this.cron = new CronTriggers({
      store,
      committed: (events) => this.committed(events),
      ...(options.cron === false ? {} : options.cron),
      onError: (err) => this.logger.warn({ err }, 'cron trigger pass failed'),
    });
    for (const executor of [createForkExecutor(this.forks), createAwaitForkedExecutor(this.forks)]) {
      if (!executors.has(executor.method)) executors.set(executor.method, executor);
    }
    if (this.catalog !== undefined && !executors.has('EXPIRE_ARTIFACTS')) {
      executors.set(
        'EXPIRE_ARTIFACTS',
        createExpireArtifactsExecutor((now) => this.expireArtifacts(now)),
      );
    }
    // Every method gets the artifact flow: dependencies in, artifacts out.
    this.executors =
      this.catalog === undefined
        ? executors
        : new Map([...executors].map(([method, e]) => [method, withStdoutReport(withWorkspace(e, { blobs }), blobs)]));
    this.logs$ = new LogHub(store);
    this.registry = new AntRegistry({
      seen: (info) => void this.store.saveAnt(info).catch((err) => this.logger.warn({ err }, 'could not save ant')),
      message: (message) => this.onAntMessage(message),
    });
    this.supervisor = new Supervisor(store, {
      definition: (jobType, version) => this.definition(jobType, version),
      committed: (events) => this.committed(events),
      kill: (jobId, taskType, attempt, reason) => this.registry.cancel(assignmentId(jobId, taskType, attempt), reason, killGraceMs(reason)),
      retryDelay: (task, failedAttempt) => retryDelayMs(task, failedAttempt),
    });
    this.scheduler = new Scheduler({
      store,
      supervisor: this.supervisor,
      ants: this.registry,
      policy: options.policy ?? priorityPolicy,
      definition: (jobType, version) => this.definition(jobType, version),
      logger: this.logger,
      startTasks: (placements) => this.startTasks(placements),
      startNext: (request) => this.startNext(request),
      admitNext: async ({ limit, take }) => {
        const admitted = await this.store.admitNext?.({ at: new Date(), limit, take });
        if (admitted) this.committed(admitted.events);
        return admitted;
      },
      // Units are taken before a claim, on the scheduler's path: a task that needs them is placed there.
      plainTask: (definition, taskType) => this.consumablesOf === undefined || consumableRequests(definition, taskType).length === 0,
      startBackup: (backup, ant, resources) => this.startBackup(backup, ant, resources),
      // This queen's live remote ants first: a stall here must not cost them their attempts.
      // Then the approval SLAs and PAUSE_JOB delays: any queen's pass acts on a lapse, none keeps a timer for it.
      reap: (now) =>
        this.remoteAnts
          .renewConnected()
          .then(() => this.leases.reap(now))
          .then(() => this.approvalsOf?.sweep(now))
          .then(async () => {
            await this.pausedJobs.sweep(now);
          }),
      onPass: (report) => {
        for (const listener of this.passListeners) listener(report);
      },
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    });
    this.pausedJobs = new PausedJobs(store, (jobId) => this.supervisor.resume(jobId));
    const pools = store.consumables?.();
    if (pools !== undefined) this.consumablesOf = new QueenConsumables(pools, (jobType, version) => this.definition(jobType, version));
    const breakers = store.circuitBreakers?.();
    if (breakers !== undefined) this.breakers = new QueenBreakers(breakers, options.circuitBreaker, this.logger);
    this.held = new HeldAttempts(this.id, this.registry);
    this.leases = new AttemptLeases(this.id, store, this.supervisor, this.logger, this.held, options.attemptLeaseMs);
    const votes = store.approvals?.();
    if (votes !== undefined) {
      this.approvalsOf = new QueenApprovals({
        store,
        votes,
        supervisor: this.supervisor,
        definition: (jobType, version) => this.definition(jobType, version),
        appendLogs: (lines) => this.logs$.append(lines),
        decided: () => this.scheduler.poke(),
        logger: this.logger,
      });
    }
    this.renderings = new RequestRenderings({
      methods: () => this.methods,
      version: (jobType, version) => store.definition(jobType, version),
    });
    const workflowEvents = store.workflowEvents?.();
    if (workflowEvents !== undefined) {
      this.events = new QueenEvents({
        store,
        events: workflowEvents,
        holder: this.id,
        definition: (jobType, version) => this.definition(jobType, version),
        committed: (events) => this.committed(events),
        appendLogs: (lines) => this.logs$.append(lines),
        logger: this.logger,
        ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
        ...(options.notify === undefined ? {} : { notify: options.notify }),
      });
    }
    this.remoteAnts = new RemoteAntHub({
      queenId: this.id,
      registry: this.registry,
      store,
      supervisor: this.supervisor,
      logger: this.logger,
      leaseMs: this.leases.leaseMs,
      held: (owner) => this.held.of(owner),
    });
  }

  static async open(options: QueenOptions = {}): Promise<Queen> {
    const ant = options.ant;
    if (ant !== undefined && (!Number.isInteger(ant.capacity) || ant.capacity < 0)) {
      throw new QueenError('invalid', `ant.capacity must be an integer >= 0, got ${String(ant.capacity)}`, 'ant.capacity');
    }
    try {
      quantities(ant?.resources ?? {});
    } catch (error) {
      throw new QueenError('invalid', `ant.resources: ${(error as Error).message}`, 'ant.resources');
    }
    try {
      ant?.taints?.forEach(parseTaint);
    } catch (error) {
      throw new QueenError('invalid', `ant.taints: ${(error as Error).message}`, 'ant.taints');
    }
    const store = options.store ?? SqliteStore.open({ ...(options.dbPath === undefined ? {} : { path: options.dbPath }) });
    const opened = (store as Partial<{ opened(): Promise<void> }>).opened;
    if (opened) {
      try {
        await opened.call(store);
      } catch (error) {
        if (!options.store) await store.close().catch(() => undefined);
        const reason = error instanceof Error ? error.message : String(error);
        throw new StoreError(`could not open the store ${store.description}: ${reason}`);
      }
    }
    return new Queen(options, store);
  }

  private get antId(): string {
    return this.options.ant?.id ?? `embedded@${hostname()}`;
  }

  /** Methods this queen can validate definitions against: every registered executor, and MANUAL (decided, never run) when its store keeps votes. */
  get methods(): readonly string[] {
    return [...this.executors.keys(), ...(this.approvalsOf === undefined ? [] : ['MANUAL'])];
  }

  /** Recovers what a previous process left running, connects the embedded ant and starts scheduling. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new QueenError('conflict', `queen is ${this.state}`);
    const antOptions = this.options.ant ?? { capacity: 4 };
    const methods = antOptions.methods ?? [...this.executors.keys()];
    const unknown = methods.filter((m) => !this.executors.has(m));
    if (unknown.length > 0) throw new QueenError('invalid', `ant.methods names unknown methods: ${unknown.join(', ')}`, 'ant.methods');
    this.state = 'running';
    this.unsubscribe = this.store.onChange((change) => this.changed(change));
    this.leases.start();
    const pools = this.store.consumables?.();
    for (const [name, capacity] of Object.entries(this.options.consumables ?? {})) await pools?.declare(name, capacity, new Date());
    await this.recover();
    if (antOptions.capacity > 0) {
      // Containers a crashed run of this ant left go before new work starts.
      const swept = await this.configured.sweep().catch((err) => {
        this.logger.warn({ err }, 'could not remove leftover containers');
        return 0;
      });
      if (swept > 0) this.logger.warn({ swept }, 'removed containers a previous run of this ant left');
      let deliver: (message: AntMessage) => void = () => {};
      const ant = new EmbeddedAnt({
        descriptor: { id: this.antId, methods, tags: antOptions.tags ?? [], capacity: antOptions.capacity },
        executors: this.executors,
        send: (message) => deliver(message),
      });
      deliver = this.registry.connect((message) => ant.receive(message), {
        labels: antOptions.labels ?? {},
        resources: antOptions.resources ?? {},
        ...(antOptions.taints && { taints: antOptions.taints }),
      });
      ant.register();
      this.ant = ant;
    }
    this.scheduler.start();
    if (this.options.cron !== false) this.cron.start();
    this.events?.ends.start();
    this.logger.info({ store: this.store.description, ant: this.ant?.descriptor }, 'queen started');
  }

  /** Stops claiming work, lets running tasks finish for the grace period, then kills them and closes the store. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    await this.cron.stop();
    await this.scheduler.stop();
    await this.events?.ends.stop();
    // Remote ants keep their work and reconnect to another queen; their attempts are theirs, not this queen's.
    await this.remoteAnts.close();
    if (wasRunning && this.ant) {
      await this.ant.drain(this.options.shutdownGraceMs ?? 10_000, 'queen stopping', () => {
        this.discardResults = true;
      });
    }
    await this.logs$.flush();
    await this.settled;
    await this.configured.close().catch((err) => this.logger.warn({ err }, 'could not close executor connections'));
    this.leases.stop();
    this.unsubscribe();
    // What the grace period cut off goes back to the queue now, rather than when its lease expires.
    if (wasRunning) await this.handBack();
    this.logs$.close();
    await this.store.close();
    this.state = 'stopped';
    this.logger.info('queen stopped');
  }

  /** Takes over attempts of queens that are gone and re-plans active jobs (a crash may have cut a plan short). */
  private async recover(): Promise<void> {
    await this.leases.reap(Date.now());
    for (const job of await this.store.activeJobs()) await this.supervisor.replan(job.id);
  }

  /** Ends the attempts this queen still owns (killed at the end of the grace period); their retry policy applies. */
  private async handBack(): Promise<void> {
    for (const attempt of await this.store.executingAttempts(this.id)) {
      await this.supervisor
        .recoverAttempt(attempt.jobId, attempt.taskType, attempt.attempt, 'queen stopped', { owner: this.id })
        .catch((err) => this.logger.warn({ err, jobId: attempt.jobId }, 'could not hand an attempt back'));
    }
  }

  /**
   * A job changed, here or on another queen: wake the scheduler, wake log followers, and kill what
   * this queen runs for the job that the database says must stop (cancelled, timed out, taken over).
   */
  private changed(change: Change): void {
    this.scheduler.poke(change.events === undefined ? 'work' : wakeFor(change.events));
    this.logs$.changed(change.jobId);
    const running = this.registry.assignmentsOf(change.jobId);
    if (running.length === 0) return;
    void this.store
      .tasks(change.jobId)
      .then((tasks) => {
        for (const id of running) {
          const [, taskType, attemptText] = id.split('/');
          const task = tasks.find((t) => t.taskType === taskType);
          const current = task?.state === 'EXECUTING' && task.attempt === Number(attemptText);
          if (current) {
            if (task.kill !== undefined) this.registry.cancel(id, task.kill, killGraceMs(task.kill));
            continue;
          }
          // A speculative pair's copy left running once the other copy's result was recorded.
          const twin = this.backups.delete(id);
          const reason =
            task?.state === 'CANCELLED' ? 'job cancelled' : twin ? 'another copy of this attempt finished first' : 'attempt taken over';
          this.registry.cancel(id, reason);
        }
      })
      .catch((err) => this.logger.warn({ err, jobId: change.jobId }, 'could not check running attempts'));
  }

  private definition(jobType: string, version: number): Promise<JobDefinition> {
    const key = `${jobType}@${version}`;
    let cached = this.definitions.get(key);
    if (!cached) {
      cached = this.store.definition(jobType, version).then((found) => {
        if (!found) throw new QueenError('not_found', `definition ${jobType} version ${version} does not exist`);
        return found.definition;
      });
      cached.catch(() => this.definitions.delete(key));
      this.definitions.set(key, cached);
    }
    return cached;
  }

  private committed(events: readonly TimelineEvent[]): void {
    for (const event of events) {
      if (event.taskType === undefined && event.to === 'CANCELLED') {
        void this.forks.parentCancelled(event.jobId).catch((err) => this.logger.warn({ err }, 'could not cancel forked jobs'));
      }
      if (event.taskType === undefined)
        this.logger.info({ jobId: event.jobId, from: event.from, to: event.to, reason: event.reason }, 'job transition');
      else
        this.logger.debug(
          { jobId: event.jobId, task: event.taskType, from: event.from, to: event.to, reason: event.reason },
          'task transition',
        );
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.logger.warn({ err }, 'transition listener threw');
        }
      }
      this.logs$.transition(event);
    }
    this.events?.ends.ended(events);
    this.scheduler.poke(wakeFor(events));
  }

  /** Claims the placed tasks in one transaction, then renders and assigns each claimed one; returns how many. */
  private async startTasks(wanted: readonly PlannedStart[]): Promise<number> {
    // Tasks that need consumable units take them first; those refused stay READY, saying why.
    const units = this.consumablesOf === undefined ? undefined : await this.consumablesOf.take(wanted);
    const placements = units?.allowed ?? wanted;
    if (placements.length === 0) return 0;
    const at = new Date();
    const claims = await Promise.all(
      placements.map(async ({ task, ant, resources }) => {
        const definition = await this.definition(task.jobType, task.version);
        return {
          jobId: task.jobId,
          taskType: task.taskType,
          antId: ant.id,
          owner: this.registry.ownerOf(ant.id) ?? this.id,
          leaseMs: this.leases.leaseMs,
          at,
          ...(ant.org === undefined ? {} : { antOrg: ant.org }),
          ...(definition.timeoutMs === undefined ? {} : { jobTimeoutMs: definition.timeoutMs }),
          ...(Object.keys(resources).length === 0 ? {} : { resources }),
        };
      }),
    );
    let claimed: Awaited<ReturnType<JobStore['claimMany']>> = [];
    try {
      claimed = await this.store.claimMany(claims);
    } finally {
      // The units of a task another queen claimed first (or of a failed claim) go back at once.
      await units?.settle(claimed).catch((err) => this.logger.warn({ err }, 'could not give back consumable units'));
    }
    await this.launch(
      claimed.map((claim) => {
        const { antId, owner, resources } = claims.find((c) => c.jobId === claim.jobId && c.taskType === claim.taskType)!;
        const { task } = placements.find((p) => p.task.jobId === claim.jobId && p.task.taskType === claim.taskType)!;
        return { claim, task, antId, owner, ...(resources === undefined ? {} : { resources }) };
      }),
    );
    return claimed.length;
  }

  /**
   * The store picks and claims the next ready tasks of the kinds `ant` takes as they come, in one statement
   * (issue 11), and each claimed one is rendered and assigned; undefined when the store picks in the scheduler.
   */
  private async startNext(request: Parameters<NonNullable<SchedulerOptions['startNext']>>[0]) {
    if (this.store.claimNext === undefined) return undefined;
    const { ant, limit, take, skip } = request;
    const owner = this.registry.ownerOf(ant.id) ?? this.id;
    const result = await this.store.claimNext({
      antId: ant.id,
      at: new Date(),
      limit,
      take,
      skip,
      owner,
      leaseMs: this.leases.leaseMs,
      ...(ant.org === undefined ? {} : { antOrg: ant.org }),
    });
    if (result === undefined) return undefined;
    await this.launch(
      result.claimed.map((claim) => ({ claim, task: claim.task, antId: ant.id, owner })),
      result.loaded,
    );
    return { started: result.claimed.length, unclaimed: result.unclaimed };
  }

  /** Holds, announces, renders and assigns claimed attempts (a failure to render or assign fails the attempt). */
  private async launch(
    started: readonly {
      readonly claim: Claimed;
      readonly task: ReadyTask;
      readonly antId: string;
      readonly owner: string;
      readonly resources?: Readonly<Record<string, number>>;
    }[],
    preloaded?: ReadonlyMap<string, JobWithTasks>,
  ): Promise<void> {
    // Held from here until the ant has it or its failure is recorded: only held attempts are renewed.
    for (const { claim, owner } of started) this.held.hold(assignmentId(claim.jobId, claim.taskType, claim.attempt), owner);
    for (const { claim } of started) this.committed(claim.events);
    // The claimed jobs with their tasks, for rendering: as the claim returned them, else in one read (a
    // failure fails each attempt below).
    const loaded: Awaited<ReturnType<JobStore['jobsWithTasks']>> | Error =
      preloaded ??
      (await this.store
        .jobsWithTasks(started.map(({ claim }) => claim.jobId))
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
    // The results of these attempts plan from this read (a compare-and-set on its revision).
    if (!(loaded instanceof Error)) this.supervisor.remember(loaded);
    await Promise.all(
      started.map(async ({ claim, task: job, antId, resources }) => {
        const definition = await this.definition(job.jobType, job.version);
        let failure: string | undefined;
        try {
          if (loaded instanceof Error) throw loaded;
          const found = loaded.get(claim.jobId);
          if (!found) throw new Error(`job ${claim.jobId} does not exist`);
          const { job: row, tasks } = found;
          const { taskDefinition, id, prepared } = await this.assignmentSpec(claim, antId, definition, row, tasks);
          const open = await this.breakerGate(id, claim, definition, taskDefinition, prepared);
          if (open === 'requeued') return;
          if (open !== undefined) throw new Error(open);
          this.registry.assign(
            antId,
            { id, jobId: claim.jobId, taskType: claim.taskType, attempt: claim.attempt, spec: prepared },
            resources,
          );
        } catch (error) {
          // A rendering or spec error may quote the rendered text, secrets included.
          failure = await this.maskText(claim.jobId, error instanceof Error ? error.message : String(error));
        }
        if (failure === undefined) return;
        await this.logs$.append([
          { jobId: claim.jobId, taskType: claim.taskType, attempt: claim.attempt, stream: 'system', at: new Date(), text: failure },
        ]);
        await this.supervisor.attemptFinished(claim.jobId, claim.taskType, claim.attempt, { succeeded: false, error: failure }, {});
      }),
    ).finally(() => {
      for (const { claim } of started) this.held.release(assignmentId(claim.jobId, claim.taskType, claim.attempt));
    });
  }

  /**
   * An HTTP attempt asks its host's circuit breaker before it goes to the ant: undefined to go; the
   * reason to fail it at once; or 'requeued' when the task was put back to wait (no attempt used).
   */
  private async breakerGate(
    id: string,
    claim: { jobId: string; taskType: string; attempt: number },
    definition: JobDefinition,
    task: TaskDefinition,
    spec: TaskSpec,
  ): Promise<string | 'requeued' | undefined> {
    const host = task.method.startsWith('HTTP_') ? breakerHost(spec.url) : undefined;
    const settings = host === undefined ? undefined : this.breakers?.settingsFor(definition, task);
    if (host === undefined || settings === undefined || this.breakers === undefined) return undefined;
    const gate = await this.breakers.before(id, host, settings, spec.timeoutMs ?? 60_000);
    if (gate.go) return undefined;
    if (settings.whenOpen === 'fail') return gate.reason;
    await this.logs$.append([
      {
        jobId: claim.jobId,
        taskType: claim.taskType,
        attempt: claim.attempt,
        stream: 'system',
        at: new Date(),
        text: `${gate.reason}: waiting`,
      },
    ]);
    await this.supervisor.requeue(claim.jobId, claim.taskType, claim.attempt, `waiting: ${gate.reason}`, gate.retryAt);
    return 'requeued';
  }

  /** Every host's circuit breaker (GET /api/circuit-breakers); empty when the store keeps none. */
  async circuitBreakers(): Promise<readonly BreakerState[]> {
    return (await this.breakers?.list()) ?? [];
  }

  /** Every consumable pool with its capacity and live holders (GET /api/consumables). */
  async consumablePools(): Promise<readonly ConsumablePool[]> {
    return (await this.store.consumables?.().pools(Date.now())) ?? [];
  }

  /** Sets a consumable pool's capacity (PUT /api/consumables/:name); tasks waiting on it are looked at again. */
  async declareConsumable(name: string, capacity: number): Promise<void> {
    const pools = this.store.consumables?.();
    if (pools === undefined) throw new QueenError('invalid', 'this store keeps no consumable pools');
    await pools.declare(name, capacity, new Date());
    this.scheduler.poke();
  }

  /** The rendered spec of an attempt for `antId` (secrets read, artifacts listed, `prepareSpec` applied). */
  private async assignmentSpec(
    claim: { readonly jobId: string; readonly taskType: string; readonly attempt: number; readonly runAttempts: number },
    antId: string,
    definition: JobDefinition,
    row: JobRow,
    tasks: readonly TaskRow[],
  ): Promise<{ taskDefinition: TaskDefinition; id: string; prepared: TaskSpec }> {
    const taskDefinition = await this.renderings.task(definition.tasks.find((t) => t.taskType === claim.taskType)!, row, new Date());
    const spec = {
      ...renderTask(definition, taskDefinition, row, tasks, claim.runAttempts, await this.taskSecrets(claim, taskDefinition, definition)),
      ...(this.catalog === undefined
        ? {}
        : await artifactFields(this.catalog, taskDefinition, tasks, claim.jobId, new Date(), row.jobType)),
    };
    const id = assignmentId(claim.jobId, claim.taskType, claim.attempt);
    const prepared =
      this.options.prepareSpec?.({ jobId: claim.jobId, taskType: claim.taskType, attempt: claim.attempt, antId }, spec) ?? spec;
    return { taskDefinition, id, prepared };
  }

  /**
   * Speculative execution: a backup copy of a running attempt on another ant of this queen. The copy is the same
   * attempt (same fencing token): the first result recorded wins, the queens cancel the other copy as no longer
   * current, and its late result is rejected. False when the attempt no longer runs or cannot be rendered.
   */
  private async startBackup(backup: Backup, ant: AntSlot, resources: Readonly<Record<string, number>>): Promise<boolean> {
    const found = (await this.store.jobsWithTasks([backup.jobId])).get(backup.jobId);
    const task = found?.tasks.find((t) => t.taskType === backup.taskType);
    if (!found || task?.state !== 'EXECUTING' || task.attempt !== backup.attempt || task.kill !== undefined) return false;
    const definition = await this.definition(found.job.jobType, found.job.version);
    const claim = { jobId: backup.jobId, taskType: backup.taskType, attempt: backup.attempt, runAttempts: task.runAttempts };
    try {
      const { id, prepared } = await this.assignmentSpec(claim, ant.id, definition, found.job, found.tasks);
      this.registry.assign(
        ant.id,
        { id, jobId: backup.jobId, taskType: backup.taskType, attempt: backup.attempt, spec: prepared },
        resources,
      );
      this.backups.add(id);
    } catch (err) {
      this.logger.warn({ err, jobId: backup.jobId, taskType: backup.taskType }, 'could not start a speculative backup');
      return false;
    }
    await this.logs$.append([
      {
        ...claim,
        stream: 'system',
        at: new Date(),
        text: `speculative backup of attempt ${backup.attempt} started on ant ${ant.id} (${backup.reason}); the first copy to finish wins`,
      },
    ]);
    return true;
  }

  /**
   * The secret names each task definition refers to (with its job's variables), found once per definition
   * object: serialising the definition at every start was 1.4% of a backlog drain's CPU.
   */
  private readonly secretNames = new WeakMap<TaskDefinition, readonly string[]>();

  /** The secrets a task refers to, read (and audited) just before it runs; undefined when it uses none. */
  private async taskSecrets(
    claim: { jobId: string; taskType: string; attempt: number },
    task: TaskDefinition,
    definition: JobDefinition,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    let names = this.secretNames.get(task);
    if (names === undefined) {
      names = secretReferences([task, definition.jobVariables]);
      this.secretNames.set(task, names);
    }
    if (names.length === 0) return undefined;
    if (!this.options.secrets)
      throw new Error(`the task refers to secrets (${names.join(', ')}) but this queen has no keyring (MYRMEX_SECRET_KEYS)`);
    return this.options.secrets.read(claim.jobId, names, `task:${claim.jobId}/${claim.taskType}/${claim.attempt}`);
  }

  private jobMasking?: JobMasking;
  private get masking(): JobMasking | undefined {
    if (this.options.secrets) this.jobMasking ??= new JobMasking(this.options.secrets);
    return this.jobMasking;
  }

  /** The masker of the job's organisation's secrets; undefined when this queen has no secrets. */
  async maskerOf(jobId: string): Promise<Masker | undefined> {
    return this.masking?.masker(jobId);
  }

  private async maskText(jobId: string, text: string): Promise<string> {
    return (await this.maskerOf(jobId).catch(() => undefined))?.mask(text) ?? text;
  }

  /**
   * Every secret of the job's organisation, in any encoding, becomes *** before a line, output,
   * error or text artifact is stored or streamed.
   */
  private async masked(
    message: Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>,
    jobId: string,
  ): Promise<Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>> {
    if (!this.masking) return message;
    const masker = await this.masking.masker(jobId);
    if (masker.empty) return message;
    if (message.type === 'progress') return { ...message, logs: message.logs.map((l) => ({ ...l, text: masker.mask(l.text) })) };
    // Digests name blobs: the manifest's files are masked by content, not as strings.
    const { artifacts, ...result } = message.result;
    const kept = artifacts && (await maskManifest(this.blobs, masker, artifacts));
    if (kept && kept.withheld.length > 0) {
      const [taskType, attempt] = [
        message.assignmentId.slice(jobId.length + 1, message.assignmentId.lastIndexOf('/')),
        message.assignmentId.slice(message.assignmentId.lastIndexOf('/') + 1),
      ];
      const at = new Date();
      await this.logs$.append(
        kept.withheld.map((path) => ({
          jobId,
          taskType,
          attempt: Number(attempt),
          stream: 'system' as const,
          at,
          text: withheldLine(path),
        })),
      );
    }
    return {
      ...message,
      result: { ...masker.maskValue(result), ...(kept && { artifacts: kept.manifest }) },
      outputs: masker.maskValue(message.outputs),
    };
  }

  /** Records an ant's progress or result; resolves once stored (to whether a result was accepted), which is when a remote ant's message is acknowledged. */
  private onAntMessage(raw: Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>): Promise<boolean> {
    if (raw.type !== 'result') return this.recordAntMessageMasked(raw);
    // The ant has let go of the attempt: it stays held (its lease renewed) until its result is recorded.
    this.held.hold(raw.assignmentId, this.registry.ownerOf(raw.antId) ?? this.id);
    return this.recordAntMessageMasked(raw).finally(() => this.held.release(raw.assignmentId));
  }

  private recordAntMessageMasked(raw: Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>): Promise<boolean> {
    const jobIdOf = raw.assignmentId.split('/')[0];
    if (!this.masking || jobIdOf === undefined) return this.recordAntMessage(raw);
    // Masked one after another, so lines are still recorded before the result that follows them.
    const masked = this.maskOrder.then(() => this.masked(raw, jobIdOf));
    this.maskOrder = masked.then(
      () => undefined,
      () => undefined,
    );
    const recorded = masked.then((message) => this.recordAntMessage(message));
    // stop() waits for the whole chain, masking included: a result still being masked when the queen
    // stops is recorded before the store closes, not against a closed one.
    this.settled = Promise.all([
      this.settled,
      recorded.catch((err) => this.logger.error({ err, jobId: jobIdOf }, 'could not record an ant message')),
    ]);
    return recorded;
  }

  private maskOrder: Promise<void> = Promise.resolve();

  private recordAntMessage(message: Exclude<AntMessage, { type: 'register' } | { type: 'heartbeat' }>): Promise<boolean> {
    const [jobId, taskType, attemptText] = message.assignmentId.split('/');
    if (jobId === undefined || taskType === undefined || attemptText === undefined) return Promise.resolve(false);
    const attempt = Number(attemptText);
    if (message.type === 'progress') {
      if (message.logs.length === 0) return Promise.resolve(true);
      return this.logs$
        .append(
          message.logs.map((l) => ({ jobId, taskType, attempt, stream: l.stream, at: new Date(l.at), text: l.text })),
          message.batch === undefined ? undefined : { jobId, taskType, attempt, batch: message.batch },
        )
        .then(() => true);
    }
    if (this.discardResults) return Promise.resolve(false);
    // One of two copies (a speculative backup runs): the timeline says which won.
    const twinNote = this.backups.has(message.assignmentId)
      ? `the copy on ant ${message.antId} finished first (speculative execution)`
      : undefined;
    const work = this.whileStoreAway(() =>
      this.logs$
        .flush()
        .then(() => this.recordArtifacts(jobId, taskType, attempt, message.result))
        .then(async (result) => {
          await this.breakers?.after(message.assignmentId, message.result);
          return this.supervisor.attemptFinished(jobId, taskType, attempt, result, message.outputs, undefined, twinNote);
        }),
    )
      .then((verdict) => {
        // The fencing check: the attempt was cancelled, timed out or taken over meanwhile.
        if (!verdict) this.logger.warn({ jobId, taskType, attempt, antId: message.antId }, 'rejected a stale attempt result');
        return verdict !== undefined;
      })
      // The ant's slot is free again (whatever the result, or if it could not be recorded).
      .finally(() => this.scheduler.poke('freed'));
    this.settled = Promise.all([
      this.settled,
      work.catch((err) => this.logger.error({ err, jobId, taskType }, 'could not record an attempt result')),
    ]);
    return work;
  }

  /**
   * Runs `work` again, after a growing pause, for as long as it fails because the database cannot
   * be reached and the queen runs: an attempt's result must not be lost to an outage (its attempt
   * would stay EXECUTING under a lease this queen keeps renewing). A retry after a write that did
   * commit is refused by the fencing check, so a result is never recorded twice.
   */
  private async whileStoreAway<T>(work: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return await work();
      } catch (error) {
        if (!isStoreUnreachable(error) || this.state !== 'running') throw error;
        this.logger.warn({ err: error }, 'database unreachable: recording an attempt result again shortly');
        await new Promise((resolve) => setTimeout(resolve, fullJitter(failures, { baseMs: 100, capMs: 2000 })));
      }
    }
  }

  private guard(): void {
    if (this.state === 'stopped') throw new QueenError('conflict', 'queen is stopped');
  }

  private async translate<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof SupervisorError) throw new QueenError(error.code, error.message);
      throw error;
    }
  }

  async applyDefinition(source: string, fileName?: string, org?: string): Promise<ApplyResult> {
    this.guard();
    if (typeof source !== 'string' || source.trim() === '')
      throw new QueenError('invalid', 'definition source must be non-empty text', 'source');
    const parsed = parseJobDefinition(source, { ...(fileName === undefined ? {} : { fileName }), methods: this.methods });
    // Stored under its internal name: the name the organisation wrote, in its own namespace (job-type-names.ts).
    const definition = { ...parsed, jobType: internalJobType(org ?? DEFAULT_ORG, parsed.jobType) };
    const result = await this.store.saveDefinition(definition, source, new Date(), org);
    this.latest.delete(definition.jobType);
    this.logger.info({ ...result }, 'definition applied');
    if (definition.cronTrigger !== undefined) this.cron.poke();
    this.events?.ends.refresh();
    return result;
  }

  /**
   * One pass of the `cron_trigger` loop at `at` (default now): submits each trigger's latest slot
   * that no queen has submitted yet, and returns the ids of the jobs this call created.
   */
  fireCron(at?: Date): Promise<readonly string[]> {
    this.guard();
    return this.cron.fire(at);
  }

  private mustEvents(): QueenEvents {
    this.guard();
    if (this.events === undefined)
      throw new QueenError('conflict', `this queen's store (${this.store.description}) keeps no workflow events`);
    return this.events;
  }

  /** A POST to a webhook trigger (see queen/webhooks.ts): verified, deduplicated, rate limited, then one job. */
  webhook(delivery: WebhookDelivery): Promise<WebhookOutcome> {
    return this.mustEvents().webhook(delivery);
  }

  /** FAILED jobs whose retries are used up, newest first, with what each was redriven as. */
  deadLetters(query: { readonly org?: string; readonly limit?: number; readonly before?: number } = {}): Promise<DeadLetterPage> {
    return this.mustEvents().deadLetters(query);
  }

  /** A new run of a dead letter on its type's latest version, linked to it; once per dead letter. */
  redrive(jobId: string): Promise<Redriven> {
    return this.mustEvents().redrive(jobId);
  }

  /** The job's notifications: recipient, state, attempts, last error. */
  notifications(jobId: string) {
    return this.mustEvents().notifications(jobId);
  }

  listDefinitions(): Promise<readonly DefinitionVersion[]> {
    this.guard();
    return this.store.latestDefinitions();
  }

  definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]> {
    this.guard();
    return this.store.definitionVersions(jobType);
  }

  async disableDefinition(jobType: string): Promise<void> {
    this.guard();
    this.latest.delete(jobType);
    if (!(await this.store.setDefinitionDisabled(jobType, true)))
      throw new QueenError('not_found', `unknown job type '${visibleJobType(jobType)}'`, 'jobType');
  }

  async submit(request: SubmitRequest): Promise<JobSummary> {
    const [job] = await this.submitMany([request], false);
    return job!;
  }

  /**
   * Submits many requests in one store transaction: every request is checked first (an error
   * names its index, e.g. `requests[3].priority`) and either all jobs are created or none.
   */
  async submitMany(requests: readonly SubmitRequest[], indexed = true): Promise<readonly JobSummary[]> {
    this.guard();
    if (!Array.isArray(requests)) throw new QueenError('invalid', 'requests must be an array of submit requests', 'requests');
    // A definition applied or disabled by another queen between the read and the insert makes the
    // insert refuse; a few fresh reads settle it unless definitions keep changing meanwhile.
    for (let tries = 1; ; tries++) {
      try {
        return await this.submitOnce(requests, indexed);
      } catch (error) {
        if (!(error instanceof StaleDefinitionError)) throw error;
        for (const jobType of error.jobTypes) this.latest.delete(jobType);
        if (tries === 3) throw new QueenError('conflict', `${error.message} during the submit, again; submit again`);
      }
    }
  }

  private async submitOnce(requests: readonly SubmitRequest[], indexed: boolean): Promise<readonly JobSummary[]> {
    const now = new Date();
    const jobs = [];
    // One task list per definition, shared by its jobs: the store sends each distinct list once.
    const taskTypes = new Map<DefinitionVersion, readonly string[]>();
    let index = -1;
    const at = (field: string) => (indexed ? `requests[${index}].${field}` : field);
    for (const request of requests) {
      index++;
      let valid: ReturnType<typeof validateSubmit>;
      try {
        valid = validateSubmit(request);
      } catch (error) {
        if (!indexed || !(error instanceof QueenError)) throw error;
        throw new QueenError(error.code, `${at(error.field ?? 'request')}: ${error.message}`, at(error.field ?? 'request'));
      }
      let definition = this.latest.get(valid.jobType);
      if (!definition) {
        definition = await this.store.definition(valid.jobType);
        if (definition && !definition.disabled) this.latest.set(valid.jobType, definition);
      }
      // Named as the submitter names it (the internal name is the queen's own: job-type-names.ts).
      const shown = visibleJobType(valid.jobType);
      if (!definition) throw new QueenError('not_found', `unknown job type '${shown}'`, at('jobType'));
      if (definition.disabled) throw new QueenError('conflict', `job type '${shown}' is disabled`, at('jobType'));
      const missing = missingParams(definition.definition, valid.params);
      if (missing.length > 0) {
        const names = missing.map((name) => `'${name}'`).join(', ');
        throw new QueenError('invalid', `job type '${shown}' requires the param(s) ${names} (required_params)`, at(`params.${missing[0]}`));
      }
      try {
        this.renderings.check(definition, valid.params, now);
      } catch (error) {
        if (!indexed || !(error instanceof QueenError)) throw error;
        throw new QueenError(error.code, `${at('params')}: ${error.message}`, at('params'));
      }
      let types = taskTypes.get(definition);
      if (types === undefined) {
        types = definition.definition.tasks.map((t) => t.taskType);
        taskTypes.set(definition, types);
      }
      jobs.push({
        id: timeOrderedId(),
        jobType: valid.jobType,
        version: definition.version,
        priority: valid.priority ?? definition.definition.priority,
        params: valid.params,
        submittedAt: now,
        scheduledAt: valid.scheduledAt && valid.scheduledAt > now ? valid.scheduledAt : now,
        taskTypes: types,
        org: typeof request.org === 'string' ? request.org : undefined,
        submittedBy: typeof request.user === 'string' ? request.user : undefined,
        requireLatest: true,
      });
    }
    const { jobs: created, events } = await this.store.createJobs(jobs);
    this.committed(events);
    return created.map(summary);
  }

  async listJobs(query: JobQuery = {}): Promise<Page<JobSummary>> {
    this.guard();
    if (query.state !== undefined && !JOB_STATES.includes(query.state)) {
      throw new QueenError('invalid', `state must be one of ${JOB_STATES.join(', ')}`, 'state');
    }
    for (const field of ['limit', 'offset'] as const) {
      const value = query[field];
      if (
        value !== undefined &&
        (!Number.isInteger(value) || value < (field === 'limit' ? 1 : 0) || value > (field === 'limit' ? 1000 : Number.MAX_SAFE_INTEGER))
      ) {
        throw new QueenError(
          'invalid',
          field === 'limit' ? 'limit must be an integer from 1 to 1000' : 'offset must be an integer >= 0',
          field,
        );
      }
    }
    if (query.cursor !== undefined) {
      if (decodeJobCursor(query.cursor) === undefined)
        throw new QueenError('invalid', "cursor must be a page's nextCursor, as returned by a previous list call", 'cursor');
      if ((query.offset ?? 0) !== 0) throw new QueenError('invalid', 'offset must be 0 (or absent) with a cursor', 'offset');
    }
    for (const field of ['submittedAfter', 'submittedBefore'] as const) {
      const value = query[field];
      if (value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime())))
        throw new QueenError('invalid', `${field} must be a valid Date`, field);
    }
    if (query.text !== undefined && (typeof query.text !== 'string' || query.text.trim().length === 0 || query.text.length > 200))
      throw new QueenError('invalid', 'text must be 1 to 200 characters, not only spaces', 'text');
    if (query.count !== undefined && query.count !== 'exact') throw new QueenError('invalid', "count must be 'exact' (or absent)", 'count');
    const page = await this.store.listJobs(query);
    return { ...page, items: page.items.map(summary) };
  }

  async getJob(id: string): Promise<JobDetail | undefined> {
    this.guard();
    const job = await this.store.job(id);
    if (!job) return undefined;
    const [tasks, attempts, timeline] = await Promise.all([this.store.tasks(id), this.store.attempts(id), this.store.timeline(id)]);
    const details: TaskDetail[] = tasks.map((task) => ({
      taskType: task.taskType,
      state: task.state,
      ...(task.exitCode === undefined ? {} : { exitCode: task.exitCode }),
      outputs: task.outputs,
      attempts: attempts
        .filter((a) => a.taskType === task.taskType)
        .map(({ attempt, state, exitCode, startedAt, endedAt, reason, antId }) => ({
          attempt,
          state,
          exitCode,
          startedAt,
          endedAt,
          reason,
          antId,
        })),
      ...(task.reason === undefined ? {} : { reason: task.reason }),
    }));
    return { ...summary(job), tasks: details, timeline };
  }

  private async mustGet(id: string): Promise<JobSummary> {
    const job = await this.store.job(id);
    if (!job) throw new QueenError('not_found', `job ${id} does not exist`, 'id');
    return summary(job);
  }

  async cancel(id: string, reason?: string): Promise<JobSummary> {
    this.guard();
    await this.mustGet(id);
    await this.translate(() => this.supervisor.cancel(id, reason ?? 'cancelled'));
    return this.mustGet(id);
  }

  async pause(id: string, reason?: string): Promise<JobSummary> {
    this.guard();
    await this.mustGet(id);
    await this.translate(() => this.supervisor.pause(id, reason ?? 'paused'));
    return this.mustGet(id);
  }

  async resume(id: string): Promise<JobSummary> {
    this.guard();
    await this.mustGet(id);
    await this.translate(() => this.supervisor.resume(id));
    this.scheduler.poke();
    return this.mustGet(id);
  }

  async restart(id: string, options: { readonly hard?: boolean } = {}): Promise<JobSummary> {
    this.guard();
    await this.mustGet(id);
    await this.translate(() => this.supervisor.restart(id, options.hard === true));
    this.scheduler.poke();
    return this.mustGet(id);
  }

  async decideTask(jobId: string, taskType: string, vote: TaskVote): Promise<ApprovalStatus> {
    this.guard();
    return this.translate(() => this.approvals$().vote(jobId, taskType, vote));
  }

  async approvals(jobId: string): Promise<readonly ApprovalStatus[]> {
    this.guard();
    return this.approvals$().statuses(jobId);
  }

  private approvals$(): QueenApprovals {
    if (!this.approvalsOf) throw new QueenError('conflict', `the store ${this.store.description} keeps no approval votes`);
    return this.approvalsOf;
  }

  logs(
    jobId: string,
    options: { readonly taskType?: string; readonly afterSeq?: number; readonly limit?: number } = {},
  ): Promise<readonly LogLine[]> {
    this.guard();
    return this.store.logs(jobId, options);
  }

  followLogs(
    jobId: string,
    options: { readonly taskType?: string; readonly afterSeq?: number },
    onLine: (line: LogLine) => void,
    onEnd: () => void,
  ): () => void {
    this.guard();
    return this.logs$.follow(jobId, options, onLine, onEnd, async () => {
      const job = await this.store.job(jobId);
      return job === undefined || TERMINAL_JOB_STATES.includes(job.state);
    });
  }

  /** Every scheduler pass of this queen (metrics). */
  onSchedulerPass(listener: (report: PassReport) => void): () => void {
    this.passListeners.add(listener);
    return () => this.passListeners.delete(listener);
  }

  /** Why a job waits and its estimated start (issue 13); undefined for an unknown job. */
  async schedulingStatus(jobId: string): Promise<WaitStatus | undefined> {
    const policy = this.options.policy ?? priorityPolicy;
    // Every connected ant of every queen (remote ants may be on another one), not only this queen's.
    const sources = { store: this.store, policy, slots: slotsOf(await this.ants()), definition: this.definition.bind(this) };
    const status = await waitStatus(sources, jobId);
    // A job whose ready task lacks consumable units says so, rather than blaming the ants.
    const units = status?.waiting && status.state !== 'PENDING' ? this.consumablesOf?.waitReason(jobId) : undefined;
    return units === undefined || status === undefined ? status : { ...status, reason: units, heldBy: 'consumables' };
  }

  onTransition(listener: (event: TimelineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every ant any queen on this store has seen; this queen's own from memory (fresher), the others from the store. */
  async ants(): Promise<readonly AntInfo[]> {
    const local = this.registry.list().map((ant) => ({ ...ant, queen: this.id }));
    const here = new Set(local.map((ant) => ant.id));
    const elsewhere = (await this.store.ants()).filter((ant) => !here.has(ant.id));
    return [...local, ...elsewhere].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Asks a remote ant to drain (stop taking work, finish, disconnect), through whichever queen it is connected to. */
  async drainAnt(id: string): Promise<void> {
    this.guard();
    if (!(await this.remoteAnts.drain(id))) throw new QueenError('not_found', `ant ${id} is not registered`, 'id');
  }

  /**
   * Recorded before the result, so a dependent that the result makes ready always finds the files.
   * Files a hard artifact storage quota refuses fail the attempt, as a remote ant's refused upload
   * does (issue 17); a soft quota passed is said in the attempt's log. Returns the result to record.
   */
  private async recordArtifacts(jobId: string, taskType: string, attempt: number, result: AttemptResult): Promise<AttemptResult> {
    if (this.catalog === undefined) return result;
    if (result.artifacts !== undefined) {
      try {
        const { warnings } = await this.catalog.record(jobId, taskType, attempt, result.artifacts, new Date());
        if (warnings.length > 0) {
          const at = new Date();
          await this.logs$.append(
            warnings.map((w) => ({ jobId, taskType, attempt, stream: 'system' as const, at, text: softQuotaLine(w) })),
          );
        }
      } catch (error) {
        if (!(error instanceof ArtifactQuotaExceeded)) throw error;
        const { artifacts: _refused, ...rest } = result;
        return { ...rest, succeeded: false, error: `artifacts: ${error.message}` };
      }
    }
    if (result.cache !== undefined) await this.recordCache(jobId, result.cache);
    return result;
  }

  /** A cache an attempt saved, for its job type; only once its archive is in this queen's blob store (a remote ant's may not be). */
  private async recordCache(jobId: string, cache: NonNullable<AttemptResult['cache']>): Promise<void> {
    const job = await this.store.job(jobId);
    if (job === undefined || this.catalog === undefined || !(await this.blobs.has(cache.digest))) return;
    const file = { path: 'cache.tar', digest: cache.digest, size: cache.size, mode: 0o644 };
    await this.catalog.record(
      cacheJobId(job.jobType),
      cache.key,
      0,
      { files: [file], missing: [], expiresAt: cache.expiresAt },
      new Date(),
    );
  }

  /** The job's unexpired artifacts, by task, attempt and path. */
  async artifacts(jobId: string): Promise<readonly ArtifactRecord[]> {
    this.guard();
    await this.mustGet(jobId);
    return this.catalog === undefined ? [] : this.catalog.list(jobId, new Date());
  }

  /** One artifact's bytes, if the job has an unexpired artifact with that digest. */
  async openArtifact(jobId: string, digest: string): Promise<{ readonly record: ArtifactRecord; readonly content: Readable }> {
    const record = (await this.artifacts(jobId)).find((r) => r.digest === digest);
    if (record === undefined) throw new QueenError('not_found', `job ${jobId} has no artifact ${digest}`, 'digest');
    return { record, content: await this.blobs.open(digest) };
  }

  /** EXPIRE_ARTIFACTS: deletes expired rows, then the blobs no row names; returns both counts. */
  async expireArtifacts(now = new Date()): Promise<{ readonly rows: number; readonly blobs: number }> {
    this.guard();
    if (this.catalog === undefined) return { rows: 0, blobs: 0 };
    const rows = await this.catalog.expire(now);
    const grace = this.options.artifactSweepGraceMs ?? 60_000;
    const blobs = await this.blobs.sweep(await this.catalog.liveDigests(), grace === 0 ? undefined : new Date(Date.now() - grace));
    return { rows, blobs };
  }

  async health(): Promise<{ readonly ok: boolean; readonly store: string; readonly uptimeMs: number }> {
    let ok = this.state === 'running';
    try {
      await this.store.nextWakeAt();
    } catch {
      ok = false;
    }
    return { ok, store: this.store.description, uptimeMs: Date.now() - this.openedAt };
  }
}
