/**
 * Job and task states, and the one place that says which state allows which request. The engine
 * enforces these rules inside its transactions; the API and CLI use the same functions for their
 * messages, so the answer a user sees is the rule the store applied.
 */

export const JOB_STATES = ['PENDING', 'READY', 'EXECUTING', 'COMPLETED', 'FAILED', 'CANCELLED', 'PAUSED'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TASK_STATES = [...JOB_STATES, 'SKIPPED'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const TERMINAL_JOB_STATES: readonly JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED'];
/** Jobs that hold a max_concurrency place: a paused job keeps its place. */
export const ADMITTED_JOB_STATES: readonly JobState[] = ['READY', 'EXECUTING', 'PAUSED'];
/** Jobs whose READY tasks may start. */
export const RUNNABLE_JOB_STATES: readonly JobState[] = ['READY', 'EXECUTING'];

const TERMINAL_TASK: ReadonlySet<TaskState> = new Set(['COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED']);
export const isTerminalTask = (state: TaskState): boolean => TERMINAL_TASK.has(state);
export const isTerminalJob = (state: JobState): boolean => TERMINAL_JOB_STATES.includes(state);

/** A request a job may or may not accept in its current state. */
export type JobAction = 'cancel' | 'pause' | 'resume' | 'restart';

/**
 * Why `action` is refused for a job in `state`, or undefined when it is allowed. The wording is
 * what users read in API problem documents and CLI errors.
 */
export function refusal(action: JobAction, jobId: string, state: JobState): string | undefined {
  switch (action) {
    case 'cancel':
      return isTerminalJob(state) ? `job ${jobId} has already ended ${state}: there is nothing to cancel` : undefined;
    case 'pause':
      return RUNNABLE_JOB_STATES.includes(state) ? undefined : `job ${jobId} is ${state}: only READY or EXECUTING jobs can be paused`;
    case 'resume':
      return state === 'PAUSED' ? undefined : `job ${jobId} is ${state}: only PAUSED jobs can be resumed`;
    case 'restart':
      return state === 'FAILED' || state === 'CANCELLED'
        ? undefined
        : `job ${jobId} is ${state}: only FAILED or CANCELLED jobs can be restarted`;
  }
}
