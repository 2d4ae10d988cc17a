import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATES, type QueenService, type TimelineEvent } from '../queen/service.js';
import type { PassReport } from '../scheduler/policy.js';
import type { JobRow, JobStore } from '../store/store.js';
import { tagsOfTask, tenantOfJob } from './definition-tags.js';

/** What the metrics read besides the queen: the store's queue queries, when the caller has the store. */
export type QueueSource = Pick<JobStore, 'readyTasks' | 'duePendingJobs'> & Partial<Pick<JobStore, 'job'>>;

/** A queen that reports its scheduler passes (the Queen class does). */
type SchedulerPasses = { onSchedulerPass(listener: (pass: PassReport) => void): () => void };

export interface MetricsOptions {
  readonly queen: QueenService;
  /** With it, queue depth and wait by priority and tag are exported. */
  readonly queue?: QueueSource;
  /** An ant not heard from for this long counts as lost (default 30 s). */
  readonly lostAfterMs?: number;
  /** Queue depth is counted over at most this many waiting tasks and jobs per scrape (default 10,000). */
  readonly queueScanLimit?: number;
  /** Process metrics (event-loop lag, heap, CPU); default true. */
  readonly processMetrics?: boolean;
}

const SECONDS = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const TERMINAL_TASK_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);
/** Bounds the in-flight bookkeeping if transitions are missed (a queen restarted mid-task). */
const MAX_TRACKED = 100_000;

/** Metric names this module exports, so dashboards and alert rules can be checked against them. */
export const METRIC_NAMES = [
  'myrmex_jobs',
  'myrmex_job_transitions_total',
  'myrmex_task_transitions_total',
  'myrmex_job_submit_to_start_seconds',
  'myrmex_task_duration_seconds',
  'myrmex_task_retries_total',
  'myrmex_task_timeouts_total',
  'myrmex_queue_depth',
  'myrmex_queue_oldest_wait_seconds',
  'myrmex_ants',
  'myrmex_ant_capacity_slots',
  'myrmex_ant_running_tasks',
  'myrmex_store_operation_duration_seconds',
  'myrmex_store_operation_errors_total',
  'myrmex_scheduler_passes_total',
  'myrmex_scheduler_pass_duration_seconds',
  'myrmex_scheduler_decisions_total',
] as const;

/**
 * The orchestrator's Prometheus metrics. Counters and histograms follow the queen's transitions;
 * gauges (jobs by state, queue depth, ants) are read from the queen and store when scraped. Labels
 * are bounded: job and task types, states, priorities, tags and ant ids, never job ids.
 */
export class OrchestratorMetrics {
  readonly registry = new Registry();
  readonly #stop: () => void;
  readonly #taskStarted = new Map<string, number>();
  readonly #storeDuration: Histogram<'operation'>;
  readonly #storeErrors: Counter<'operation'>;
  readonly #passes: Counter<'outcome'>;
  readonly #passDuration: Histogram;
  readonly #decisions: Counter<'kind' | 'plugin'>;
  readonly #softQuota: Counter<'org' | 'resource'>;

  constructor(options: MetricsOptions) {
    const { queen } = options;
    const registry = this.registry;
    const lostAfterMs = options.lostAfterMs ?? 30_000;
    const scanLimit = options.queueScanLimit ?? 10_000;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

    new Gauge({
      name: 'myrmex_jobs',
      help: 'Job requests in each state (read from the store when scraped)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const totals = await Promise.all(
          JOB_STATES.map(async (state) => (await queen.listJobs({ state, limit: 1, count: 'exact' })).total),
        );
        for (const [index, state] of JOB_STATES.entries()) this.set({ state }, totals[index] ?? 0);
      },
    });
    const jobTransitions = new Counter({
      name: 'myrmex_job_transitions_total',
      help: 'Job state transitions, by job type and the state entered',
      labelNames: ['job_type', 'to'],
      registers: [registry],
    });
    const taskTransitions = new Counter({
      name: 'myrmex_task_transitions_total',
      help: 'Task state transitions, by job type and the state entered',
      labelNames: ['job_type', 'to'],
      registers: [registry],
    });
    const submitToStart = new Histogram({
      name: 'myrmex_job_submit_to_start_seconds',
      help: 'Time from a job being submitted (or its scheduled_at) to its first task starting',
      labelNames: ['job_type'],
      buckets: SECONDS,
      registers: [registry],
    });
    const taskDuration = new Histogram({
      name: 'myrmex_task_duration_seconds',
      help: 'Duration of each task attempt, by job type and outcome',
      labelNames: ['job_type', 'outcome'],
      buckets: SECONDS,
      registers: [registry],
    });
    const retries = new Counter({
      name: 'myrmex_task_retries_total',
      help: 'Task attempts that failed and were scheduled again',
      labelNames: ['job_type'],
      registers: [registry],
    });
    const timeouts = new Counter({
      name: 'myrmex_task_timeouts_total',
      help: 'Tasks and jobs that ran out of time',
      labelNames: ['job_type', 'scope'],
      registers: [registry],
    });

    const depthOf = async () => {
      const now = Date.now();
      const [ready, pending] = options.queue
        ? await Promise.all([options.queue.readyTasks(now, scanLimit, 0), options.queue.duePendingJobs(now, scanLimit, 0)])
        : [[], []];
      const depth = new Map<string, { kind: string; priority: string; tag: string; tenant: string; count: number }>();
      const oldest = new Map<string, { kind: string; tenant: string; since: number }>();
      const add = (kind: string, priority: number, tags: readonly string[], tenant: string, submittedAt: Date) => {
        for (const tag of tags.length === 0 ? [''] : tags) {
          const key = `${kind}\u0000${priority}\u0000${tag}\u0000${tenant}`;
          const entry = depth.get(key) ?? { kind, priority: String(priority), tag, tenant, count: 0 };
          entry.count++;
          depth.set(key, entry);
        }
        const key = `${kind}\u0000${tenant}`;
        oldest.set(key, { kind, tenant, since: Math.min(oldest.get(key)?.since ?? now, submittedAt.getTime()) });
      };
      const tenant = (jobId: string, jobType: string, version: number, params?: JobRow['params']) =>
        tenantOfJob(queen, jobId, jobType, version, params ?? (() => options.queue?.job?.(jobId).then((row) => row?.params)));
      for (const task of ready) {
        const tags = await tagsOfTask(queen, task.jobType, task.version, task.taskType);
        add('task', task.priority, tags, await tenant(task.jobId, task.jobType, task.version), task.submittedAt);
      }
      for (const job of pending) {
        const tags = await tagsOfTask(queen, job.jobType, job.version);
        add('job', job.priority, tags, await tenant(job.id, job.jobType, job.version, job.params), job.scheduledAt);
      }
      return { depth, oldest, now };
    };
    let depthScan: Promise<Awaited<ReturnType<typeof depthOf>>> | undefined;
    // Both queue gauges come from one scan per scrape.
    const scan = () => {
      depthScan ??= depthOf().finally(() => setImmediate(() => (depthScan = undefined)));
      return depthScan;
    };
    new Gauge({
      name: 'myrmex_queue_depth',
      help: 'Waiting work: READY tasks (kind=task) and due PENDING jobs (kind=job), by priority, tag ("" when untagged) and tenant',
      labelNames: ['kind', 'priority', 'tag', 'tenant'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const kind of ['task', 'job']) this.set({ kind, priority: '0', tag: '', tenant: 'default' }, 0);
        for (const entry of (await scan()).depth.values())
          this.set({ kind: entry.kind, priority: entry.priority, tag: entry.tag, tenant: entry.tenant }, entry.count);
      },
    });
    new Gauge({
      name: 'myrmex_queue_oldest_wait_seconds',
      help: 'How long the oldest waiting task or due job has waited, by tenant',
      labelNames: ['kind', 'tenant'],
      registers: [registry],
      async collect() {
        const { oldest, now } = await scan();
        this.reset();
        for (const kind of ['task', 'job']) this.set({ kind, tenant: 'default' }, 0);
        for (const entry of oldest.values()) this.set({ kind: entry.kind, tenant: entry.tenant }, (now - entry.since) / 1000);
      },
    });

    const antsRead = async () => queen.ants();
    new Gauge({
      name: 'myrmex_ants',
      help: `Ants by status: live, or lost when not heard from for ${lostAfterMs} ms`,
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const now = Date.now();
        const ants = await antsRead();
        const lost = ants.filter((ant) => now - ant.lastSeenAt.getTime() > lostAfterMs).length;
        this.set({ status: 'live' }, ants.length - lost);
        this.set({ status: 'lost' }, lost);
      },
    });
    new Gauge({
      name: 'myrmex_ant_capacity_slots',
      help: 'Tasks each ant can run at once',
      labelNames: ['ant'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const ant of await antsRead()) this.set({ ant: ant.id }, ant.capacity);
      },
    });
    new Gauge({
      name: 'myrmex_ant_running_tasks',
      help: 'Tasks each ant is running',
      labelNames: ['ant'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const ant of await antsRead()) this.set({ ant: ant.id }, ant.running);
      },
    });

    this.#storeDuration = new Histogram({
      name: 'myrmex_store_operation_duration_seconds',
      help: 'Latency of each store operation (each is one transaction or query)',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    });
    this.#storeErrors = new Counter({
      name: 'myrmex_store_operation_errors_total',
      help: 'Store operations that threw',
      labelNames: ['operation'],
      registers: [registry],
    });
    this.#passes = new Counter({
      name: 'myrmex_scheduler_passes_total',
      help: 'Scheduler passes (admit due jobs, dispatch ready tasks), by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.#passDuration = new Histogram({
      name: 'myrmex_scheduler_pass_duration_seconds',
      help: 'Duration of one scheduler pass',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    });
    this.#decisions = new Counter({
      name: 'myrmex_scheduler_decisions_total',
      help: 'Scheduling decisions: admit, start, hold (by the plugin that held), preempt, speculate',
      labelNames: ['kind', 'plugin'],
      registers: [registry],
    });
    this.#softQuota = new Counter({
      name: 'myrmex_quota_soft_exceeded_total',
      help: 'Jobs admitted past a soft quota of their organisation or user, by organisation and resource',
      labelNames: ['org', 'resource'],
      registers: [registry],
    });

    interface JobFacts {
      readonly type: string;
      /** When a job seen from its first transition became due; cleared once its first task starts. */
      dueAt?: number;
    }
    const jobs = new Map<string, Promise<JobFacts>>();
    const remember = <V>(map: Map<string, V>, key: string, value: V) => {
      if (map.size >= MAX_TRACKED) map.delete(map.keys().next().value as string);
      map.set(key, value);
    };
    // Transitions carry no job type: each job is read once. Events of one job wait on the same
    // promise, so they are recorded in the order they happened.
    const factsOf = (event: TimelineEvent): Promise<JobFacts> => {
      let facts = jobs.get(event.jobId);
      if (!facts) {
        const fresh = event.taskType === undefined && event.from === undefined;
        facts = queen.getJob(event.jobId).then(
          (job): JobFacts =>
            job
              ? { type: job.jobType, ...(fresh ? { dueAt: Math.max(job.submittedAt.getTime(), job.scheduledAt.getTime()) } : {}) }
              : { type: 'unknown' },
          (): JobFacts => ({ type: 'unknown' }),
        );
        remember(jobs, event.jobId, facts);
      }
      return facts;
    };
    const timedOut = (event: TimelineEvent) => /timed? ?out|timeout/i.test(event.reason ?? '');
    const record = (event: TimelineEvent, facts: JobFacts) => {
      const type = facts.type;
      if (event.taskType === undefined) {
        jobTransitions.inc({ job_type: type, to: event.to });
        if (event.to === 'FAILED' && timedOut(event)) timeouts.inc({ job_type: type, scope: 'job' });
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(event.to)) jobs.delete(event.jobId);
        return;
      }
      taskTransitions.inc({ job_type: type, to: event.to });
      const at = event.at.getTime();
      const key = `${event.jobId}\u0000${event.taskType}`;
      if (event.to === 'EXECUTING') {
        remember(this.#taskStarted, key, at);
        if (facts.dueAt !== undefined) {
          submitToStart.observe({ job_type: type }, Math.max(0, at - facts.dueAt) / 1000);
          facts.dueAt = undefined;
        }
        return;
      }
      if (event.from !== 'EXECUTING') return;
      const started = this.#taskStarted.get(key);
      if (started !== undefined) {
        this.#taskStarted.delete(key);
        const outcome = TERMINAL_TASK_STATES.has(event.to) ? event.to : event.to === 'READY' ? 'RETRIED' : event.to;
        taskDuration.observe({ job_type: type, outcome }, Math.max(0, at - started) / 1000);
      }
      if (event.to === 'READY') retries.inc({ job_type: type });
      if (timedOut(event)) timeouts.inc({ job_type: type, scope: 'task' });
    };
    const onEvent = (event: TimelineEvent) => {
      void factsOf(event).then((facts) => record(event, facts));
    };
    const stopTransitions = queen.onTransition(onEvent);
    const stopPasses = (queen as Partial<SchedulerPasses>).onSchedulerPass?.((pass) => this.observePass(pass));
    this.#stop = () => {
      stopTransitions();
      stopPasses?.();
    };
  }

  /** Records one store operation; `instrumentStore` calls it. */
  observeStore(operation: string, seconds: number, failed: boolean): void {
    this.#storeDuration.observe({ operation }, seconds);
    if (failed) this.#storeErrors.inc({ operation });
  }

  /** Records one scheduler pass. */
  observeSchedulerPass(seconds: number, failed: boolean): void {
    this.#passes.inc({ outcome: failed ? 'error' : 'ok' });
    this.#passDuration.observe(seconds);
  }

  /** Records one scheduler pass with what it decided (the queen reports each pass). */
  observePass(pass: PassReport): void {
    this.observeSchedulerPass(pass.seconds, pass.failed);
    const count = (kind: string, n: number, plugin = '') => {
      if (n > 0) this.#decisions.inc({ kind, plugin }, n);
    };
    count('admit', pass.admitted);
    count('start', pass.started);
    for (const [plugin, n] of Object.entries(pass.holds)) count('hold', n, plugin);
    count('preempt', pass.preemptions);
    count('speculate', pass.speculativeLaunches);
    for (const warning of pass.quotaWarnings ?? []) {
      for (const breach of warning.breaches) this.#softQuota.inc({ org: warning.org, resource: breach.limit.resource });
    }
  }

  /** The exposition text for GET /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.#stop();
    this.registry.clear();
  }
}
