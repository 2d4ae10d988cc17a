import type { RunningAttempt, UsageLedger } from '@myrmex/scheduling';
import type { JobDefinition } from '../definition/model.js';
import type { EndedAttempt } from '../store/scheduling.js';
import type { JobStore } from '../store/store.js';
import { type ClusterView, definitionFields, definitionKey, taskResources, tenantOf } from './view.js';

export interface FeedOptions {
  readonly store: JobStore;
  readonly definition: (jobType: string, version: number) => Promise<JobDefinition>;
  /** How long ended attempts (history, usage) are reused before the store is read again (default 5 s). */
  readonly refreshMs?: number;
  /** The quota period usage is summed over (default one day). */
  readonly periodMs?: number;
  /** Most ended attempts read per refresh (default 2,000). */
  readonly limit?: number;
  /** Past runtimes kept per job type (default 50). */
  readonly historyPerType?: number;
}

/** Reads the ClusterView from the store: running attempts at every pass, ended attempts every `refreshMs`. */
export class SchedulingFeed {
  private ended?: { at: number; history: Record<string, number[]>; usage: Record<string, UsageLedger> };
  private readonly refreshMs: number;
  private readonly periodMs: number;

  constructor(private readonly options: FeedOptions) {
    this.refreshMs = options.refreshMs ?? 5_000;
    this.periodMs = options.periodMs ?? 86_400_000;
  }

  async read(now: number, extraDefinitions: readonly { jobType: string; version: number }[] = []): Promise<ClusterView> {
    const { store } = this.options;
    // Read afresh for admission and for dispatch: jobs admitted in between are charged to their tenants.
    const [attempts, jobs] = await Promise.all([store.executingAttempts(), store.activeJobs()]);
    const byId = new Map(jobs.map((job) => [job.id, job]));
    const definitions = await this.definitions([...jobs, ...extraDefinitions]);
    const running: RunningAttempt[] = [];
    for (const attempt of attempts) {
      const job = byId.get(attempt.jobId);
      if (!job) continue;
      const definition = definitions.get(definitionKey(job.jobType, job.version));
      const fields = definitionFields(definition, job.submittedAt.getTime(), attempt.taskType);
      running.push({
        id: `${attempt.jobId}/${attempt.taskType}/${attempt.attempt}`,
        jobId: attempt.jobId,
        taskId: `${attempt.jobId}/${attempt.taskType}`,
        antId: attempt.antId ?? 'unknown',
        jobType: job.jobType,
        tenant: tenantOf(job.params, definition, job.org),
        ...(job.submittedBy !== undefined && { user: job.submittedBy }),
        ...(fields.queue !== undefined && { queue: fields.queue }),
        priority: job.priority,
        resources: taskResources(definition, attempt.taskType),
        startedAt: attempt.startedAt.getTime(),
        ...(fields.estimatedRuntime !== undefined && { estimatedRuntime: fields.estimatedRuntime }),
        ...(fields.speculativeBackup && { speculativeBackup: fields.speculativeBackup }),
      });
    }
    const ended = await this.endedAttempts(now, definitions);
    const tenants = new Map(
      jobs.map((job) => [job.id, tenantOf(job.params, definitions.get(definitionKey(job.jobType, job.version)), job.org)]),
    );
    return { now, running, history: ended.history, usage: ended.usage, definitions, tenants };
  }

  private async definitions(jobs: readonly { jobType: string; version: number }[]): Promise<Map<string, JobDefinition>> {
    const keys = new Map(jobs.map((job) => [definitionKey(job.jobType, job.version), job]));
    const found = await Promise.all(
      [...keys].map(async ([key, job]) => [key, await this.options.definition(job.jobType, job.version).catch(() => undefined)] as const),
    );
    return new Map(found.filter((entry): entry is [string, JobDefinition] => entry[1] !== undefined));
  }

  private async endedAttempts(now: number, definitions: Map<string, JobDefinition>) {
    if (this.ended && now - this.ended.at < this.refreshMs) return this.ended;
    const periodStart = now - this.periodMs;
    const rows = (await this.options.store.scheduling?.().endedAttempts(periodStart, this.options.limit ?? 2_000)) ?? [];
    const more = await this.definitions(rows.filter((r) => !definitions.has(definitionKey(r.jobType, r.version))));
    for (const [key, definition] of more) definitions.set(key, definition);
    this.ended = { at: now, ...summarise(rows, definitions, periodStart, this.options.historyPerType ?? 50) };
    return this.ended;
  }
}

/** Runtimes of completed attempts per job type (oldest first) and resource x ms consumed per tenant and queue. */
export function summarise(
  rows: readonly EndedAttempt[],
  definitions: ReadonlyMap<string, JobDefinition>,
  periodStart: number,
  keep: number,
) {
  const history: Record<string, number[]> = {};
  const consumed: Record<string, Record<string, number>> = {};
  // Newest first from the store: walk oldest first so the history ends with the latest runs.
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i]!;
    const ms = Math.max(0, row.endedAt - row.startedAt);
    const definition = definitions.get(definitionKey(row.jobType, row.version));
    if (row.state === 'COMPLETED') {
      const runs = history[row.jobType] ?? [];
      history[row.jobType] = runs;
      runs.push(ms);
      if (runs.length > keep) runs.shift();
    }
    const resources = taskResources(definition, row.taskType);
    const queue = definitionFields(definition, 0).queue ?? 'default';
    for (const account of [`tenant:${tenantOf(row.params, definition, row.org)}`, `queue:${queue}`]) {
      const sum = consumed[account] ?? {};
      consumed[account] = sum;
      for (const key in resources) sum[key] = (sum[key] ?? 0) + (resources[key] ?? 0) * ms;
    }
  }
  const usage: Record<string, UsageLedger> = {};
  for (const [account, sum] of Object.entries(consumed)) usage[account] = { consumed: sum, periodStart };
  return { history, usage };
}
