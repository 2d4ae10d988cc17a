export { graphOf, type JobGraph } from './graph.js';
export { isTerminalTask, type JobSnapshot, jobRetryDelay, type Plan, planJob, type TaskSnapshot, tasksToRestart } from './plan.js';
export { flatOutputs, renderTask } from './render.js';
export { JobLocks, Supervisor, SupervisorError, type SupervisorHooks } from './supervisor.js';
export { type AttemptResult, judgeAttempt, type RetryDelay, type Verdict } from './verdict.js';
