import { jobTypeOrg } from '../domain/job-type-names.js';
import type { DefinitionVersion, TimelineEvent } from '../domain/types.js';
import type { JobStore } from '../store/store.js';

/** A job whose id is derived from what caused it (a cron slot, a parent's fork), so a retry finds it. */
export interface DerivedJob {
  readonly id: string;
  readonly definition: DefinitionVersion;
  readonly priority: number;
  readonly params: Readonly<Record<string, unknown>>;
  /** The organisation it is filed under (default `default`). */
  readonly org?: string;
}

/**
 * Creates the job unless a job with its id exists; true when this call created it. Several queens (or
 * passes) may race for one id: the job table's unique key lets one insert, and the others, refused, find
 * the row and answer false rather than fail.
 */
export async function createDerivedJob(
  store: JobStore,
  committed: (events: readonly TimelineEvent[]) => void,
  job: DerivedJob,
): Promise<boolean> {
  if ((await store.job(job.id)) !== undefined) return false;
  const now = new Date();
  try {
    const { events } = await store.createJobs([
      {
        id: job.id,
        jobType: job.definition.jobType,
        version: job.definition.version,
        priority: job.priority,
        params: job.params,
        submittedAt: now,
        scheduledAt: now,
        taskTypes: job.definition.definition.tasks.map((t) => t.taskType),
        // A cron slot or trigger files the job under the organisation whose namespace its type is in.
        org: job.org ?? jobTypeOrg(job.definition.jobType),
      },
    ]);
    committed(events);
    return true;
  } catch (error) {
    if ((await store.job(job.id)) !== undefined) return false;
    throw error;
  }
}
