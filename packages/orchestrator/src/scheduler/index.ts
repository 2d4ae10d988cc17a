export { explainWait, type WaitStatus } from './explain.js';
export { SchedulingFeed } from './feed.js';
export { frameworkPolicy } from './framework-policy.js';
export {
  type AntSlot,
  canRun,
  type HeldReason,
  type PassReport,
  type PassTally,
  type Placement,
  priorityPolicy,
  type SchedulingPolicy,
  type Victim,
} from './policy.js';
export { Scheduler, type SchedulerOptions } from './scheduler.js';
export { waitStatus } from './status.js';
export type { ClusterView } from './view.js';
