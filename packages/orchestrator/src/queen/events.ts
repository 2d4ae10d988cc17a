import { derivedId } from '../domain/ids.js';
import { visibleJobType } from '../domain/job-type-names.js';
import type { SecretSource } from '../security/index.js';
import type { JobRow } from '../store/store.js';
import type { DeadLetter, NotificationRow } from '../store/workflow-events.js';
import { createDerivedJob } from './derived-job.js';
import { QueenError } from './errors.js';
import { JOB_EVENTS_TASK, JobEnds, type JobEndsOptions } from './job-ends.js';
import { deliverWebhook, type WebhookDelivery, type WebhookOutcome } from './webhooks.js';

/** What following job ends needs, and the secrets webhook deliveries are verified with. */
export interface QueenEventsOptions extends JobEndsOptions {
  readonly secrets?: SecretSource;
}

export interface DeadLetterPage {
  readonly items: readonly DeadLetter[];
  /** Pass back as `before` for the next (older) page; absent on the last one. */
  readonly nextBefore?: number;
}

export interface Redriven {
  readonly original: JobRow;
  readonly job: JobRow;
}

/**
 * The queen's side of issue 14's events: webhook deliveries, what follows a job's end (job triggers,
 * notifications) and the dead-letter list with its redrive. Everything is decided by the store, so any
 * number of queens may run it.
 */
export class QueenEvents {
  readonly ends: JobEnds;

  constructor(private readonly options: QueenEventsOptions) {
    this.ends = new JobEnds(options);
  }

  webhook(delivery: WebhookDelivery): Promise<WebhookOutcome> {
    const { store, events, committed, secrets } = this.options;
    return deliverWebhook(
      {
        store,
        events,
        committed,
        secret: async (jobType, name) => secrets?.definitionSecret?.(jobType, name, `webhook:${jobType}`),
      },
      delivery,
    );
  }

  notifications(jobId: string): Promise<readonly NotificationRow[]> {
    return this.options.events.notifications(jobId);
  }

  async deadLetters(query: { readonly org?: string; readonly limit?: number; readonly before?: number } = {}): Promise<DeadLetterPage> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new QueenError('invalid', `limit must be 1 to 500, got ${limit}`, 'limit');
    const items = await this.options.events.deadLetters({
      limit: limit + 1,
      ...(query.org === undefined ? {} : { org: query.org }),
      ...(query.before === undefined ? {} : { beforeSeq: query.before }),
    });
    const page = items.slice(0, limit);
    return { items: page, ...(items.length > limit ? { nextBefore: page.at(-1)!.job.seq } : {}) };
  }

  /**
   * A new run of a dead letter (a FAILED job): the same params and priority on the job type's latest
   * version (a fix applied since is what a redrive is usually for). Its id is derived from the
   * original's, so a redrive is made once however many times or queens ask; the link is kept both
   * ways (the new job's origin, the dead letter's `redrivenAs`) and written in both jobs' logs.
   */
  async redrive(jobId: string): Promise<Redriven> {
    const { store, events, committed, appendLogs } = this.options;
    const original = await store.job(jobId);
    if (original === undefined) throw new QueenError('not_found', `job ${jobId} does not exist`, 'id');
    if (original.state !== 'FAILED') {
      throw new QueenError(
        'conflict',
        `job ${jobId} is ${original.state}: only a FAILED job (its retries used up) is a dead letter to redrive`,
      );
    }
    const definition = await store.definition(original.jobType);
    const shown = visibleJobType(original.jobType);
    if (definition === undefined) throw new QueenError('not_found', `job type '${shown}' no longer exists`, 'jobType');
    if (definition.disabled) throw new QueenError('conflict', `job type '${shown}' is disabled`, 'jobType');
    const id = derivedId('redrive', jobId);
    const org = await events.definitionOrg(original.jobType);
    const created = await createDerivedJob(store, committed, {
      id,
      definition,
      priority: original.priority,
      params: original.params,
      ...(org === undefined ? {} : { org }),
    });
    const at = new Date();
    await events.link({ jobId: id, kind: 'redrive', origin: jobId, at });
    if (!created) throw new QueenError('conflict', `job ${jobId} was already redriven as job ${id}`);
    await appendLogs([
      { jobId, taskType: JOB_EVENTS_TASK, attempt: 0, stream: 'system', at, text: `redriven as job ${id} (version ${definition.version})` },
      { jobId: id, taskType: JOB_EVENTS_TASK, attempt: 0, stream: 'system', at, text: `redrive of dead letter ${jobId}` },
    ]);
    const job = await store.job(id);
    return { original, job: job! };
  }
}
