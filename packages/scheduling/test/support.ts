import type { Ant, PendingJob, Resources, RunningAttempt } from '../src/index.js';

export function job(id: string, extra: Partial<PendingJob> & { cpu?: number; resources?: Resources } = {}): PendingJob {
  const { cpu, resources, ...rest } = extra;
  return {
    id,
    jobType: 'work',
    tenant: 'acme',
    priority: 0,
    submittedAt: 0,
    tasks: [{ id: `${id}.t`, resources: resources ?? { cpu: cpu ?? 1 } }],
    ...rest,
  };
}

export function ant(id: string, capacity: Resources = { cpu: 4, memory: 16 }, labels?: Record<string, string>): Ant {
  return { id, capacity, ...(labels && { labels }) };
}

export function running(id: string, antId: string, extra: Partial<RunningAttempt> = {}): RunningAttempt {
  return {
    id,
    jobId: `job-${id}`,
    taskId: `${id}.t`,
    antId,
    jobType: 'work',
    tenant: 'acme',
    priority: 0,
    resources: { cpu: 1 },
    startedAt: 0,
    ...extra,
  };
}

export const started = (decisions: readonly { kind: string; jobId?: string }[]) =>
  decisions.filter((d) => d.kind === 'admit').map((d) => d.jobId);
