import type { AntSlot } from '../domain/types.js';
import type { JobRow, ReadyTask } from '../store/store.js';
import { labelsMatch, largeEnough, type PlacementNeeds } from './placement.js';
import type { QuotaWarning } from './quota-gate.js';
import type { ClusterView } from './view.js';

export type { AntSlot };

/** A ready task with what placement needs from its definition. */
export interface Placement extends ReadyTask {
  readonly method: string;
  /** The task's tags and its job's tags: an ant must have all of them. */
  readonly tags: readonly string[];
  /** Resources, node_selector and required affinity, matched against the ant's advertised capacity and labels. */
  readonly needs: PlacementNeeds;
}

/**
 * Decides order and placement. Capacity, method/tag matching and max_concurrency are enforced by
 * the scheduler around any policy, so a policy cannot break them; later issues add more policies.
 */
export interface SchedulingPolicy {
  readonly name: string;
  /** Due PENDING jobs in the order they should be admitted. */
  orderJobs(jobs: readonly JobRow[], now: number): readonly JobRow[];
  /** READY tasks in the order they should start. */
  orderTasks(tasks: readonly ReadyTask[], now: number): readonly ReadyTask[];
  /** One of `candidates` (all able to run the task, each with a free slot and its resources free), or undefined to hold it back. */
  placeTask(task: Placement, candidates: readonly AntSlot[]): AntSlot | undefined;
  /** Given before a pass orders work: what runs and ran, on every queen (read from the store only when defined). */
  observe?(view: ClusterView): void;
  /** Why the policy last held a job or task back (by job id), if it did. */
  explain?(jobId: string): HeldReason | undefined;
  /**
   * Every slot able to run `task` is busy: running attempts to stop so that it can start (all on `candidates`,
   * counted with their running work). Empty when nothing should be preempted.
   */
  preempt?(task: Placement, candidates: readonly AntSlot[]): readonly Victim[];
  /**
   * Running attempts that are stragglers and should get a backup copy now, each on one of `ants` (this queen's,
   * with a free slot) other than its own. The copy runs the same attempt: the first result recorded wins.
   */
  speculate?(ants: readonly AntSlot[], now: number): readonly Backup[];
  /** A backup `speculate` proposed was started: no other is proposed for that attempt. */
  launched?(backup: Backup): void;
  /** What the policy decided since the last call: holds by plugin, preemptions, speculative launches. */
  drainTally?(): PassTally;
}

/** A backup copy of a running attempt (speculative execution), named by its fencing token, and the ant to run it. */
export interface Backup {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly antId: string;
  /** Why: the straggler's runtime so far against its threshold. */
  readonly reason: string;
}

/** A running attempt to stop, named by its fencing token. */
export interface Victim {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly reason: string;
  /** How long it may take to stop once signalled (the profile's preemption grace); absent: its ant's kill grace. */
  readonly graceMs?: number;
}

export interface PassTally {
  readonly holds: Readonly<Record<string, number>>;
  readonly preemptions: number;
  readonly speculativeLaunches: number;
}

/** A hold as the policy decided it: shown by `myrmex status` and GET /api/jobs/:id/scheduling. */
export interface HeldReason {
  readonly reason: string;
  /** The plugin that held it ('placement' when no ant could take it). */
  readonly plugin: string;
  /** When the policy looks at it again, epoch ms. */
  readonly retryAt: number;
  /** When this reason was given, epoch ms. */
  readonly at: number;
}

/** One scheduler pass, for metrics: its duration, and what the policy decided by kind and holds by plugin. */
export interface PassReport extends PassTally {
  readonly seconds: number;
  readonly failed: boolean;
  readonly admitted: number;
  readonly started: number;
  /** Jobs admitted past a soft quota in this pass (issue 17). */
  readonly quotaWarnings?: readonly QuotaWarning[];
}

/** The ant could run the task if it were idle: organisation, method, tags, labels and total resources. */
export function canRun(ant: AntSlot, task: Pick<Placement, 'method' | 'tags' | 'org' | 'needs'>): boolean {
  // The claim refuses a foreign job to an organisation's ant anyway; placing it there would only waste the slot.
  return (
    (ant.org === undefined || ant.org === task.org) &&
    ant.methods.has(task.method) &&
    task.tags.every((tag) => ant.tags.has(tag)) &&
    labelsMatch(ant, task.needs) &&
    largeEnough(ant, task.needs)
  );
}

const byPriorityThenSubmission = (a: { priority: number; seq: number }, b: { priority: number; seq: number }) =>
  b.priority - a.priority || a.seq - b.seq;

/** Formicary's default: higher priority first, then first come first served; the least loaded ant. */
export const priorityPolicy: SchedulingPolicy = {
  name: 'priority',
  orderJobs: (jobs) => [...jobs].sort(byPriorityThenSubmission),
  // Compared field by field: copying both tasks per comparison was 2% of a backlog drain's CPU, and garbage.
  orderTasks: (tasks) => [...tasks].sort((a, b) => b.priority - a.priority || a.jobSeq - b.jobSeq),
  placeTask: (_task, candidates) =>
    candidates.reduce<AntSlot | undefined>(
      (best, ant) => (!best || ant.running / ant.capacity < best.running / best.capacity ? ant : best),
      undefined,
    ),
};
