import { abortReason, type ExecutionContext, type Executor, type FanOutRequest, type ForkRequest } from './executor.js';
import { fanOutChildTask, runFanOut } from './fan-out.js';

/** A child job as the fork executors see it. */
export interface ForkedJob {
  readonly id: string;
  readonly state: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly reason?: string;
}

/** What the fork executors need from the queen they run in. */
export interface ForkHost {
  /**
   * Submits the child of (parent job, task) once: asking again, from any queen, returns the same
   * child, so a FORK_JOB re-run after a crash never makes a second one.
   */
  fork(parentJobId: string, taskType: string, request: ForkRequest): Promise<string>;
  /** Resolves once the job is terminal (COMPLETED, FAILED, CANCELLED) or the signal aborts. */
  settled(jobId: string, signal: AbortSignal): Promise<ForkedJob | undefined>;
  /** The `ForkedJobId` output a FORK_JOB task of the parent recorded. */
  forkedBy(parentJobId: string, taskType: string): Promise<string | undefined>;
  cancel(jobId: string, reason: string): Promise<void>;
  /** Whether the job is being cancelled, timed out or over: a waiting fork's children then go with it. */
  parentStopped(jobId: string): Promise<boolean>;
}

/** The output a FORK_JOB task leaves: AWAIT_FORKED_JOB and cancellation find the child by it. */
export const FORKED_JOB_OUTPUT = 'ForkedJobId';

export function createForkExecutor(host: ForkHost): Executor {
  return {
    method: 'FORK_JOB',
    async execute(context) {
      const fanOut = context.spec.fanOut;
      if (fanOut?.jobs !== undefined) return forkFanOut(host, context, fanOut, fanOut.jobs);
      const request = context.spec.fork;
      if (request === undefined) return { succeeded: false, error: 'FORK_JOB task names no fork_job_type or sub_workflow job_type' };
      let childId: string;
      try {
        childId = await host.fork(context.jobId, context.taskType, request);
      } catch (error) {
        return { succeeded: false, error: `could not fork ${request.jobType}: ${error instanceof Error ? error.message : String(error)}` };
      }
      context.output(FORKED_JOB_OUTPUT, childId);
      context.log('system', `forked ${request.jobType} as job ${childId}`, new Date());
      if (!request.wait) return { exitCode: 0, succeeded: true };
      return awaitChildren(host, context, [{ taskType: context.taskType, childId }], request.outputs);
    },
  };
}

export function createAwaitForkedExecutor(host: ForkHost): Executor {
  return {
    method: 'AWAIT_FORKED_JOB',
    async execute(context) {
      const tasks = context.spec.awaitForked ?? [];
      if (tasks.length === 0) return { succeeded: false, error: 'AWAIT_FORKED_JOB task names no await_forked_tasks' };
      const children: { taskType: string; childId: string }[] = [];
      for (const taskType of tasks) {
        const childId = await host.forkedBy(context.jobId, taskType);
        if (childId === undefined) return { succeeded: false, error: `task ${taskType} forked no job (no ${FORKED_JOB_OUTPUT} output)` };
        children.push({ taskType, childId });
      }
      return awaitChildren(host, context, children, []);
    },
  };
}

async function awaitChildren(
  host: ForkHost,
  context: ExecutionContext,
  children: readonly { readonly taskType: string; readonly childId: string }[],
  outputs: ForkRequest['outputs'],
): ReturnType<Executor['execute']> {
  const ended = await Promise.all(children.map((c) => host.settled(c.childId, context.signal)));
  if (context.signal.aborted) {
    // The parent is cancelled or timed out: its children go with it. A queen stopping (or a
    // preemption) leaves them running: the task's next attempt finds and awaits them.
    if (await host.parentStopped(context.jobId)) {
      await Promise.all(children.map((c) => host.cancel(c.childId, `parent job ${context.jobId} stopped`).catch(() => undefined)));
    }
    return { succeeded: false, error: `stopped while awaiting forked jobs: ${String(context.signal.reason)}` };
  }
  const failed: string[] = [];
  for (const [index, job] of ended.entries()) {
    const { taskType, childId } = children[index]!;
    if (job === undefined) continue;
    context.log('system', `forked job ${childId} (from ${taskType}) ended ${job.state}`, new Date());
    if (job.state !== 'COMPLETED') failed.push(`${childId} ${job.state}${job.reason ? ` (${job.reason})` : ''}`);
    for (const [key, value] of Object.entries(returnedOutputs(job, outputs, context))) context.output(key, value);
  }
  if (failed.length > 0) return { exitCode: 1, succeeded: false, error: `forked job(s) did not complete: ${failed.join('; ')}` };
  return { exitCode: 0, succeeded: true };
}

/** A child's outputs as the parent gets them: all of them, plus each `output_variables` mapping (empty when the child did not set it). */
function returnedOutputs(job: ForkedJob, mappings: ForkRequest['outputs'], context: ExecutionContext): Record<string, string> {
  const outputs: Record<string, string> = { ...job.outputs };
  for (const mapping of mappings) {
    const value = job.outputs[mapping.child];
    if (value === undefined) context.log('system', `child output ${mapping.child} was not set; ${mapping.parent} is empty`, new Date());
    outputs[mapping.parent] = value ?? '';
  }
  return outputs;
}

/**
 * A job fan-out: child `i` is forked as the parent task's `<task>[i]`, so its id follows from the
 * parent, the task, the index and the job retry. A re-run attempt (a crash, a takeover) finds the
 * children already made instead of making more, and awaits them; children are forked in item order,
 * so those of a run are always a prefix of the list. A stopped task cancels the children it awaits.
 */
function forkFanOut(
  host: ForkHost,
  context: ExecutionContext,
  request: FanOutRequest,
  jobs: readonly ForkRequest[],
): ReturnType<Executor['execute']> {
  // One fork at a time, in index order (children run in parallel): what a cancel after a crash relies on.
  let forking: Promise<unknown> = Promise.resolve();
  return runFanOut(context, request, 'job', async (index, signal) => {
    const child = jobs[index]!;
    const forked = forking.then(() =>
      signal.aborted ? undefined : host.fork(context.jobId, fanOutChildTask(context.taskType, index), child),
    );
    forking = forked.catch(() => undefined);
    let childId: string | undefined;
    try {
      childId = await forked;
    } catch (error) {
      return {
        state: 'FAILED',
        error: `could not fork ${child.jobType}: ${error instanceof Error ? error.message : String(error)}`,
        outputs: {},
      };
    }
    if (childId === undefined) return { state: 'CANCELLED', error: `not started: ${abortReason(signal)}`, outputs: {} };
    context.log('system', `forked ${child.jobType} as job ${childId} for ${request.itemVar}_${index}`, new Date());
    const job = await host.settled(childId, signal);
    if (job === undefined) {
      // fail_fast stops the siblings; the parent's own stop only when its job is cancelled or timed out.
      if (!context.signal.aborted || (await host.parentStopped(context.jobId))) {
        await host.cancel(childId, `parent task ${context.taskType} of ${context.jobId} stopped`).catch(() => undefined);
      }
      return { state: 'CANCELLED', error: abortReason(signal), outputs: { [FORKED_JOB_OUTPUT]: childId } };
    }
    return {
      state: job.state,
      ...(job.reason === undefined ? {} : { error: job.reason }),
      outputs: { ...returnedOutputs(job, child.outputs, context), [FORKED_JOB_OUTPUT]: childId },
    };
  });
}
