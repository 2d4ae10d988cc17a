export { frameworkPolicy } from './framework-policy.js';
export { type AntSlot, canRun, type Placement, priorityPolicy, type SchedulingPolicy } from './policy.js';
export { Scheduler, type SchedulerOptions } from './scheduler.js';
