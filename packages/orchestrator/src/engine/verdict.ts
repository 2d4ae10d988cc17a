import { isControlTarget } from '../definition/graph.js';
import type { TaskDefinition } from '../definition/model.js';
import type { AttemptResult } from '../domain/types.js';

export type { AttemptResult };

export type Verdict =
  | { readonly kind: 'completed'; readonly route?: string; readonly reason: string }
  /** `pauseJob`: PAUSE_JOB: the job is PAUSED too, and resumed when the delay has passed. */
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: string; readonly pauseJob?: true }
  /** WAIT_FOR_APPROVAL: the task waits, as a MANUAL task does, for a decision that ends it. */
  | { readonly kind: 'approval'; readonly reason: string }
  | { readonly kind: 'failed'; readonly route?: string; readonly fatal: boolean; readonly reason: string };

/** How the reason of a task that paused its job begins: the queen's sweep resumes such jobs when their delay has passed. */
export const PAUSED_BY_TASK = 'PAUSE_JOB';

/** The wait before retry number `failedAttempt` (1-based); the supervisor passes DEFS's retryDelayMs. */
export type RetryDelay = (task: TaskDefinition, failedAttempt: number) => number;

function describe(result: AttemptResult): string {
  if (result.error !== undefined) return result.exitCode === undefined ? result.error : `exit code ${result.exitCode}: ${result.error}`;
  return `exit code ${result.exitCode ?? 'none'}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Classifies a finished attempt: the exit code is looked up in `on_exit_code` (exact code first,
 * then the COMPLETED/FAILED state key); without a match success and failure take their usual paths.
 * `runAttempts` counts this attempt (1 for the first).
 */
export function judgeAttempt(task: TaskDefinition, result: AttemptResult, runAttempts: number, delay: RetryDelay): Verdict {
  const described = describe(result);
  const byCode = result.exitCode === undefined ? undefined : task.onExitCode[String(result.exitCode)];
  const mapped = byCode ?? task.onExitCode[result.succeeded ? 'COMPLETED' : 'FAILED'];

  const retriesLeft = runAttempts <= task.retry;
  const retry = (what: string): Verdict => {
    const delayMs = Math.max(0, Math.round(delay(task, runAttempts)));
    return { kind: 'retry', delayMs, reason: `${what}; retry ${runAttempts} of ${task.retry} in ${seconds(delayMs)}` };
  };
  const finalFailure = (reason: string): Verdict => ({
    kind: 'failed',
    route: task.onFailed ?? (task.allowFailure ? task.onCompleted : undefined),
    fatal: false,
    reason,
  });
  const success = (): Verdict => ({ kind: 'completed', route: task.onCompleted, reason: described });
  const failure = (): Verdict => (retriesLeft ? retry(described) : finalFailure(described));

  switch (mapped) {
    case undefined:
      return result.succeeded ? success() : failure();
    case 'COMPLETED':
      return success();
    case 'FAILED':
      return failure();
    case 'FATAL':
      return { kind: 'failed', fatal: true, reason: `${described}: FATAL` };
    case 'EXECUTING':
      return retriesLeft
        ? retry(`${described}: still executing`)
        : finalFailure(`${described}: still executing after ${runAttempts} attempts`);
    case 'RESTART_TASK':
      // At once, without the retry delay, but counted: a task cannot restart itself forever.
      return retriesLeft
        ? { kind: 'retry', delayMs: 0, reason: `${described}: RESTART_TASK; retry ${runAttempts} of ${task.retry}` }
        : finalFailure(`${described}: RESTART_TASK with no retry left`);
    case 'RESTART_JOB':
      // The job fails now and its own retry (job `retry`) restarts it; without one it stays FAILED.
      return { kind: 'failed', fatal: true, reason: `${described}: RESTART_JOB` };
    case 'PAUSE_JOB': {
      // The task waits out its retry delay with the job PAUSED, then runs again; counted, so it cannot pause forever.
      if (!retriesLeft) return finalFailure(`${described}: PAUSE_JOB with no retry left`);
      const delayMs = Math.max(0, Math.round(delay(task, runAttempts)));
      return {
        kind: 'retry',
        delayMs,
        reason: `${PAUSED_BY_TASK} after ${described}; retry ${runAttempts} of ${task.retry} in ${seconds(delayMs)}`,
        pauseJob: true,
      };
    }
    case 'WAIT_FOR_APPROVAL':
      return { kind: 'approval', reason: `${described}: WAIT_FOR_APPROVAL` };
    default:
      // ERR_<CODE>: the task fails with the code in its reason, without retry, and the job with it.
      if (isControlTarget(mapped)) return { kind: 'failed', fatal: true, reason: `${described}: ${mapped}` };
      return { kind: 'completed', route: mapped, reason: `${described}: routed to ${mapped}` };
  }
}
