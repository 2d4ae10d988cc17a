import type { PendingJob, Resources, RunningAttempt, UsageLedger } from '@myrmex/scheduling';
import type { JobDefinition } from '../definition/model.js';
import { DEFAULT_ORG } from '../store/security.js';

/**
 * What a pass knows beyond its page of due work, read from the store (issue 13): every queen's running attempts,
 * runtime history per job type and usage per tenant and queue over the quota period, so fair share, DRF,
 * capacity and preemption see real usage.
 */
export interface ClusterView {
  readonly now: number;
  readonly running: readonly RunningAttempt[];
  readonly history: Readonly<Record<string, readonly number[]>>;
  /** Keyed `tenant:<name>` and `queue:<name>`, in resource x ms. */
  readonly usage: Readonly<Record<string, UsageLedger>>;
  /** The definitions of the jobs in view, by `jobType@version`. */
  readonly definitions: ReadonlyMap<string, JobDefinition>;
  /** The tenant of every job with work in flight (its READY tasks are charged to it). */
  readonly tenants: ReadonlyMap<string, string>;
}

/**
 * A job's tenant: its organisation (issue 17), so fair share and usage are per organisation and a job
 * cannot name another's share; in the `default` organisation (a queen without organisations) the
 * request's `tenant` param, else its definition's `tenant`, else 'default'.
 */
export function tenantOf(params: Readonly<Record<string, unknown>> | undefined, definition?: JobDefinition, org?: string): string {
  if (org !== undefined && org !== DEFAULT_ORG) return org;
  if (typeof params?.tenant === 'string' && params.tenant !== '') return params.tenant;
  return definition?.scheduling?.tenant ?? 'default';
}

/** What one task of a definition asks an ant for: its own quantities, else the job's, plus one slot. */
export function taskResources(definition: JobDefinition | undefined, taskType: string): Resources {
  const task = definition?.tasks.find((t) => t.taskType === taskType);
  return { ...(task?.scheduling?.resources ?? definition?.scheduling?.resources ?? {}), slots: 1 };
}

/**
 * The scheduling fields a definition gives a pending job (deadline made absolute from its submission); with
 * `taskType`, that task's own `estimated_runtime` and `speculative_backup` win over the job's.
 */
export function definitionFields(definition: JobDefinition | undefined, submittedAt: number, taskType?: string): Partial<PendingJob> {
  const own = taskType === undefined ? undefined : definition?.tasks.find((t) => t.taskType === taskType)?.scheduling;
  const spec = own ? { ...definition?.scheduling, ...own } : definition?.scheduling;
  if (!spec) return {};
  const deadline = spec.deadline === undefined ? undefined : 'at' in spec.deadline ? spec.deadline.at : submittedAt + spec.deadline.afterMs;
  return {
    ...(spec.queue !== undefined && { queue: spec.queue }),
    ...(deadline !== undefined && { deadline }),
    ...(spec.estimatedRuntimeMs !== undefined && { estimatedRuntime: spec.estimatedRuntimeMs }),
    ...(spec.speculativeBackup && { speculativeBackup: spec.speculativeBackup }),
  };
}

export const definitionKey = (jobType: string, version: number) => `${jobType}@${version}`;
