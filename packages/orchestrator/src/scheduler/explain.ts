import { estimateWait } from '@myrmex/scheduling';
import type { QuotaBreach } from '../security/quotas.js';
import type { HeldReason } from './policy.js';

/** Why a job waits and when it should start: GET /api/jobs/:id/scheduling and `myrmex status`. */
export interface WaitStatus {
  readonly jobId: string;
  readonly state: string;
  /** False once the job has started (or ended): nothing to explain. */
  readonly waiting: boolean;
  /** Whose share the job counts against: the request's `tenant` param, else its definition's, else `default`. */
  readonly tenant?: string;
  /** A sentence: "held: tenant acme at quota 10/10", "no ant has resources cpu=8", "queued: 12 jobs ahead". */
  readonly reason?: string;
  /** The framework plugin that held it, or `queue`, `schedule`, `max_concurrency`, `capacity`, `placement`, `approval`. */
  readonly heldBy?: string;
  /** Jobs before it in the store's queue order (priority, then submission), counted up to a bound. */
  readonly ahead?: number;
  /** Estimated start, ISO 8601; absent when nothing can be said (no ant at all). */
  readonly estimatedStartAt?: string;
  /** When the scheduler looks again, if a hold said so. */
  readonly retryAt?: string;
}

export interface WaitInputs {
  readonly now: number;
  readonly jobId: string;
  readonly state: string;
  readonly scheduledAt: number;
  /** Jobs before it in queue order (undefined when it is not PENDING). */
  readonly ahead?: number;
  /** A hard quota of the job's organisation or user holds it (issue 17). */
  readonly quota?: QuotaBreach;
  /** The job's type is at its max_concurrency: [running, max]. */
  readonly concurrency?: readonly [number, number];
  readonly held?: HeldReason;
  /** Tasks of the job that are READY (admitted, waiting for an ant). */
  readonly readyTasks: number;
  /** MANUAL tasks of the job waiting for a decision (READY, but for people, not ants). */
  readonly awaitingApproval?: readonly string[];
  readonly slots: number;
  readonly running: number;
  /** Why no connected ant could run one of its READY tasks ("no ant has resources cpu=8"), if none could. */
  readonly unplaceable?: string;
  /** Mean past runtime of jobs like this one, ms (history), if known. */
  readonly meanRuntime?: number;
}

/** Runtime assumed when there is no history yet. */
const DEFAULT_RUNTIME_MS = 60_000;

export function explainWait(input: WaitInputs): WaitStatus {
  const { now, jobId, state } = input;
  const approvals = input.awaitingApproval ?? [];
  const waiting = state === 'PENDING' || (state === 'READY' && (input.readyTasks > 0 || approvals.length > 0));
  if (!waiting) return { jobId, state, waiting: false };
  const ahead = input.ahead ?? 0;
  const estimate = estimateWait({
    now,
    ahead,
    running: input.running,
    slots: input.slots,
    meanRuntime: input.meanRuntime ?? DEFAULT_RUNTIME_MS,
    ...(input.scheduledAt > now && { notBefore: input.scheduledAt }),
  });
  const at = (ms: number) => new Date(ms).toISOString();
  const base = {
    jobId,
    state,
    waiting: true,
    ...(input.ahead !== undefined && { ahead }),
    ...(Number.isFinite(estimate) && { estimatedStartAt: at(now + estimate) }),
  };
  if (input.held && input.held.retryAt >= now - 60_000) {
    return { ...base, reason: input.held.reason, heldBy: input.held.plugin, retryAt: at(input.held.retryAt) };
  }
  if (input.scheduledAt > now) return { ...base, reason: `scheduled: not before ${at(input.scheduledAt)}`, heldBy: 'schedule' };
  if (input.quota) {
    return {
      ...base,
      reason: `held: ${input.quota.message}`,
      heldBy: 'quota',
      ...(input.quota.until !== undefined && { retryAt: at(input.quota.until) }),
    };
  }
  if (input.concurrency && input.concurrency[0] >= input.concurrency[1]) {
    const [running, max] = input.concurrency;
    return { ...base, reason: `held: job type at max_concurrency ${running}/${max}`, heldBy: 'max_concurrency' };
  }
  if (state === 'READY' && input.readyTasks === 0) {
    return { jobId, state, waiting: true, reason: `waiting for approval of ${approvals.join(', ')}`, heldBy: 'approval' };
  }
  if (state === 'READY' && input.unplaceable !== undefined) return { ...base, reason: input.unplaceable, heldBy: 'placement' };
  if (input.slots === 0) return { ...base, reason: 'no ant is connected', heldBy: 'capacity' };
  if (state === 'READY') {
    const full = input.running >= input.slots;
    return {
      ...base,
      reason: full ? `every ant slot is busy (${input.running}/${input.slots})` : 'waiting for an ant able to run its tasks',
      heldBy: 'capacity',
    };
  }
  return { ...base, reason: ahead === 0 ? 'next in the queue' : `queued: ${ahead} job${ahead === 1 ? '' : 's'} ahead`, heldBy: 'queue' };
}
