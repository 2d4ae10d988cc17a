export { graphOf, type JobGraph } from './graph.js';
export { type JobSnapshot, jobRetryDelay, type Plan, planJob, type TaskSnapshot, tasksToRestart } from './plan.js';
export { flatOutputs, renderTask } from './render.js';
export { killGraceMs, PREEMPT_KILL, Supervisor, SupervisorError, type SupervisorHooks, TIMEOUT_KILL } from './supervisor.js';
export { type AttemptResult, judgeAttempt, type RetryDelay, type Verdict } from './verdict.js';
