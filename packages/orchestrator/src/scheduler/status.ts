import type { JobDefinition } from '../definition/model.js';
import { awaitingApproval } from '../engine/supervisor.js';
import type { QuotaBreach } from '../security/quotas.js';
import type { JobStore } from '../store/store.js';
import { explainWait, type WaitStatus } from './explain.js';
import { placementNeeds, whyNoAnt } from './placement.js';
import type { AntSlot, SchedulingPolicy } from './policy.js';
import { tenantOf } from './view.js';

export interface StatusSources {
  readonly store: JobStore;
  readonly policy: SchedulingPolicy;
  /** This queen's ants. */
  readonly slots: readonly AntSlot[];
  readonly definition: (jobType: string, version: number) => Promise<JobDefinition>;
}

/** Queue positions are counted this far; a job further back reads as "at least" this many ahead. */
const AHEAD_BOUND = 1_000;
const HISTORY_WINDOW_MS = 86_400_000;

/** Why a job waits and when it should start, from the store and this queen's policy; undefined for an unknown job. */
export async function waitStatus(sources: StatusSources, jobId: string, now = Date.now()): Promise<WaitStatus | undefined> {
  const { store, policy, slots } = sources;
  const job = await store.job(jobId);
  if (!job) return undefined;
  const [tasks, definition] = await Promise.all([store.tasks(jobId), sources.definition(job.jobType, job.version).catch(() => undefined)]);
  let ahead: number | undefined;
  let concurrency: [number, number] | undefined;
  let quota: QuotaBreach | undefined;
  if (job.state === 'PENDING') {
    quota = (await store.quotas?.().admissions([jobId], now))?.get(jobId)?.hold;
    const due = await store.duePendingJobs(Math.max(now, job.scheduledAt.getTime()), AHEAD_BOUND);
    const index = due.findIndex((j) => j.id === jobId);
    ahead = index >= 0 ? index : due.length;
    const max = definition?.maxConcurrency;
    if (max !== undefined) concurrency = [(await store.activeJobsByType()).get(job.jobType) ?? 0, max];
  }
  const ended = (await store.scheduling?.().endedAttempts(now - HISTORY_WINDOW_MS, 500)) ?? [];
  const runs = ended.filter((a) => a.jobType === job.jobType && a.state === 'COMPLETED').map((a) => a.endedAt - a.startedAt);
  const meanRuntime =
    runs.length > 0 ? runs.reduce((a, b) => a + b, 0) / runs.length : (definition?.scheduling?.estimatedRuntimeMs ?? undefined);
  const held = policy.explain?.(jobId);
  const ready = tasks.filter((t) => t.state === 'READY' && !awaitingApproval(t));
  let unplaceable: string | undefined;
  for (const task of definition === undefined ? [] : ready) {
    const taskDefinition = definition!.tasks.find((t) => t.taskType === task.taskType);
    if (!taskDefinition) continue;
    const tags = [...new Set([...definition!.tags, ...taskDefinition.tags])];
    const needs = placementNeeds(definition!, taskDefinition);
    unplaceable = whyNoAnt({ method: taskDefinition.method, tags, needs, ...(job.org !== undefined && { org: job.org }) }, slots);
    if (unplaceable !== undefined) {
      unplaceable = `task ${task.taskType} waits: ${unplaceable}`;
      break;
    }
  }
  const explained = explainWait({
    now,
    jobId,
    state: job.state,
    scheduledAt: job.scheduledAt.getTime(),
    ...(ahead !== undefined && { ahead }),
    ...(concurrency && { concurrency }),
    ...(quota && { quota }),
    ...(held && { held }),
    // A MANUAL task waiting for a decision is READY but no ant will take it: it waits for people.
    readyTasks: ready.length,
    ...(unplaceable !== undefined && { unplaceable }),
    awaitingApproval: tasks.filter(awaitingApproval).map((t) => t.taskType),
    slots: slots.reduce((sum, slot) => sum + slot.capacity, 0),
    running: slots.reduce((sum, slot) => sum + slot.running, 0),
    ...(meanRuntime !== undefined && { meanRuntime }),
  });
  return { ...explained, tenant: tenantOf(job.params, definition, job.org) };
}
