export { plus, quantities, quantity, shortOf } from '../domain/quantities.js';
export { explainWait, type WaitStatus } from './explain.js';
export { SchedulingFeed } from './feed.js';
export { frameworkPolicy } from './framework-policy.js';
export { antLabels, hasRoom, labelsMatch, largeEnough, NO_NEEDS, type PlacementNeeds, placementNeeds, whyNoAnt } from './placement.js';
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
export { type PlannedStart, Scheduler, type SchedulerOptions } from './scheduler.js';
export { waitStatus } from './status.js';
export type { ClusterView } from './view.js';
