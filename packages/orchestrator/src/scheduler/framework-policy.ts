import { type Decision, type PendingJob, type Profile, schedulePass } from '@myrmex/scheduling';
import type { JobRow, ReadyTask } from '../store/store.js';
import type { AntSlot, Placement, SchedulingPolicy } from './policy.js';

/** A job's tenant until tenancy exists: a submitted `tenant` parameter, else 'default'. */
const tenantOf = (params: Readonly<Record<string, unknown>> | undefined) =>
  typeof params?.tenant === 'string' && params.tenant !== '' ? params.tenant : 'default';

/** An ant wide enough for anything: admission and ordering are decided here, placement by `placeTask`. */
const EVERYWHERE = [{ id: 'queue', capacity: { slots: Number.MAX_SAFE_INTEGER } }];

/** The jobs the framework admits, in the order it admits them; held jobs are left out (they stay pending). */
function admitted<T>(items: readonly T[], toPending: (item: T) => PendingJob, profile: Profile, now: number): T[] {
  const byId = new Map(items.map((item) => [toPending(item).id, item]));
  const pending = items.map(toPending);
  const { decisions } = schedulePass({ now, pending, running: [], ants: EVERYWHERE }, profile.plugins, profile.options);
  return decisions.flatMap((d: Decision) => (d.kind === 'admit' ? [byId.get(d.jobId)!] : []));
}

/**
 * The queen's scheduling policy as a thin loop over a @myrmex/scheduling profile: the profile orders (and may
 * hold back) due jobs and ready tasks, and chooses among the ants able to take a task (resource `slots`, ant
 * labels from its tags). The queen's store still applies every admission and start atomically.
 */
export function frameworkPolicy(profile: Profile): SchedulingPolicy {
  const jobToPending = (job: JobRow): PendingJob => ({
    id: job.id,
    jobType: job.jobType,
    tenant: tenantOf(job.params),
    priority: job.priority,
    submittedAt: job.submittedAt.getTime(),
    seq: job.seq,
    tasks: [{ id: 'admission', resources: {} }],
  });
  const taskToPending = (task: ReadyTask): PendingJob => ({
    id: `${task.jobId}/${task.taskType}`,
    jobType: task.jobType,
    tenant: 'default',
    priority: task.priority,
    submittedAt: task.submittedAt.getTime(),
    seq: task.jobSeq,
    tasks: [{ id: task.taskType, resources: { slots: 1 } }],
  });
  return {
    name: profile.name,
    orderJobs: (jobs, now) => admitted(jobs, jobToPending, profile, now),
    orderTasks: (tasks, now) => admitted(tasks, taskToPending, profile, now),
    placeTask: (task: Placement, candidates: readonly AntSlot[]) => {
      const ants = candidates.map((slot) => ({
        id: slot.id,
        capacity: { slots: slot.capacity - slot.running },
        labels: Object.fromEntries([...slot.tags].map((tag) => [tag, 'true'])),
      }));
      const { decisions } = schedulePass(
        { now: Date.now(), pending: [taskToPending(task)], running: [], ants },
        profile.plugins,
        profile.options,
      );
      const placed = decisions.find((d) => d.kind === 'place');
      return placed?.kind === 'place' ? candidates.find((slot) => slot.id === placed.placement.antId) : undefined;
    },
  };
}
