import { derivedId } from '../domain/ids.js';
import { siblingJobType, visibleJobType } from '../domain/job-type-names.js';
import { TERMINAL_JOB_STATES } from '../domain/states.js';
import type { DefinitionVersion, TimelineEvent } from '../domain/types.js';
import { flatOutputs } from '../engine/render.js';
import type { ForkRequest } from '../executors/executor.js';
import { fanOutChildTask } from '../executors/fan-out.js';
import { FORKED_JOB_OUTPUT, type ForkedJob, type ForkHost } from '../executors/fork.js';
import type { JobStore } from '../store/store.js';
import { createDerivedJob } from './derived-job.js';
import { QueenError } from './errors.js';

/**
 * The id of the child a FORK_JOB task submits in one run of its parent: derived from the parent,
 * the task and the parent's job retry, so a re-run attempt (a crash, a takeover by another queen)
 * finds the child it already made, and the database's unique id refuses a second one.
 */
export function childJobId(parentJobId: string, taskType: string, jobRetry: number): string {
  return derivedId('fork', parentJobId, taskType, String(jobRetry));
}

export interface QueenForksOptions {
  readonly store: JobStore;
  readonly committed: (events: readonly TimelineEvent[]) => void;
  readonly cancel: (jobId: string, reason: string) => Promise<unknown>;
  /** How often a waiting fork looks at its child besides the store's change hints (other queens' commits may be missed). */
  readonly pollMs?: number;
}

/** FORK_JOB, sub_workflow and AWAIT_FORKED_JOB on the queen's store. */
export class QueenForks implements ForkHost {
  constructor(private readonly options: QueenForksOptions) {}

  async fork(parentJobId: string, taskType: string, request: ForkRequest): Promise<string> {
    const { store } = this.options;
    const parent = await store.job(parentJobId);
    if (parent === undefined) throw new QueenError('not_found', `parent job ${parentJobId} does not exist`);
    const id = childJobId(parentJobId, taskType, parent.retry);
    if ((await store.job(id)) !== undefined) return id;
    // The child is a job type of the parent's organisation, named as its users name it.
    const found = await this.definition(siblingJobType(parent.jobType, request.jobType), request.version);
    // Created here or by a queen that forked the same child first: either way that child is ours.
    await createDerivedJob(store, this.options.committed, {
      id,
      definition: found,
      priority: parent.priority,
      params: request.params,
      ...(parent.org === undefined ? {} : { org: parent.org }),
    });
    return id;
  }

  /** A version number, or the newest version whose sem_version matches (Formicary's fork_job_version), or the latest. */
  private async definition(jobType: string, version: string | undefined): Promise<DefinitionVersion> {
    const { store } = this.options;
    let found: DefinitionVersion | undefined;
    if (version === undefined) found = await store.definition(jobType);
    else {
      const versions = await store.definitionVersions(jobType);
      found = versions.find((v) => v.definition.semVersion === version) ?? versions.find((v) => String(v.version) === version);
    }
    if (found === undefined) {
      throw new QueenError(
        'not_found',
        `no definition of ${visibleJobType(jobType)}${version === undefined ? '' : ` with version ${version}`} to fork`,
      );
    }
    if (found.disabled) throw new QueenError('conflict', `job type ${visibleJobType(jobType)} is disabled`);
    return found;
  }

  async settled(jobId: string, signal: AbortSignal): Promise<ForkedJob | undefined> {
    const { store } = this.options;
    for (;;) {
      if (signal.aborted) return undefined;
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const unsubscribe = store.onChange((change) => {
        if (change.jobId === jobId) wake();
      });
      const timer = setTimeout(wake, this.options.pollMs ?? 1000);
      signal.addEventListener('abort', wake, { once: true });
      try {
        const job = await store.job(jobId);
        if (job === undefined) return { id: jobId, state: 'FAILED', outputs: {}, reason: 'the forked job does not exist' };
        if (TERMINAL_JOB_STATES.includes(job.state)) {
          return {
            id: jobId,
            state: job.state,
            outputs: flatOutputs(await store.tasks(jobId)),
            ...(job.reason === undefined ? {} : { reason: job.reason }),
          };
        }
        await woken;
      } finally {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', wake);
      }
    }
  }

  async forkedBy(parentJobId: string, taskType: string): Promise<string | undefined> {
    return (await this.options.store.tasks(parentJobId)).find((t) => t.taskType === taskType)?.outputs[FORKED_JOB_OUTPUT];
  }

  async parentStopped(jobId: string): Promise<boolean> {
    const job = await this.options.store.job(jobId);
    return job === undefined || job.stop !== undefined || TERMINAL_JOB_STATES.includes(job.state);
  }

  async cancel(jobId: string, reason: string): Promise<void> {
    const job = await this.options.store.job(jobId);
    if (job === undefined || TERMINAL_JOB_STATES.includes(job.state)) return;
    await this.options.cancel(jobId, reason).catch((error: unknown) => {
      // It ended meanwhile (another path cancelled it first): nothing left to do.
      if (!(error instanceof QueenError && error.code === 'conflict')) throw error;
    });
  }

  /**
   * A cancelled parent cancels the children its FORK_JOB tasks made: those they recorded, and
   * those of tasks still running (or cut short), found by the id their run would give them
   * (a fan-out's children by the ids of its indices).
   */
  async parentCancelled(parentJobId: string): Promise<void> {
    const { store } = this.options;
    const parent = await store.job(parentJobId);
    if (parent === undefined) return;
    const children = new Set<string>();
    for (const task of await store.tasks(parentJobId)) {
      const recorded = task.outputs[FORKED_JOB_OUTPUT];
      if (recorded !== undefined) children.add(recorded);
      children.add(childJobId(parentJobId, task.taskType, parent.retry));
      // A job fan-out forks its children in item order: they are the indices up to the first id not taken.
      for (let index = 0; ; index++) {
        const id = childJobId(parentJobId, fanOutChildTask(task.taskType, index), parent.retry);
        if ((await store.job(id)) === undefined) break;
        children.add(id);
      }
    }
    for (const child of children) await this.cancel(child, `parent job ${parentJobId} cancelled`);
  }
}
