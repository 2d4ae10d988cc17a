import type { TaskDefinition } from '../definition/model.js';
import type { ForkRequest } from '../executors/executor.js';

/**
 * FORK_JOB and `sub_workflow` as an ant runs them: the child's type and version, its params (the
 * parent's `input_params`, rendered in the parent's scope), whether the task waits for the child
 * and which child outputs come back under which names (a job fan-out's `fan_out.fork_job_type`
 * names the child too). Undefined for other tasks.
 */
export function forkRequest(task: TaskDefinition, render: (text: string) => string): ForkRequest | undefined {
  const sub = task.subWorkflow;
  const jobType = sub?.job_type ?? task.fanOut?.fork_job_type ?? task.forkJobType;
  if (jobType === undefined) return undefined;
  const version = sub?.job_version ?? task.fanOut?.fork_job_version ?? task.forkJobVersion;
  return {
    jobType,
    ...(version === undefined ? {} : { version: String(version) }),
    params: Object.fromEntries((sub?.input_params ?? []).map((p) => [p.name, typeof p.value === 'string' ? render(p.value) : p.value])),
    // A FORK_JOB task forks and moves on (AWAIT_FORKED_JOB joins later); a sub_workflow task waits unless told not to.
    wait: task.method === 'FORK_JOB' && sub?.wait_for_completion === undefined ? false : sub?.wait_for_completion !== false,
    outputs: (sub?.output_variables ?? []).map((p) => ({ child: p.name, parent: String(p.value) })),
  };
}
