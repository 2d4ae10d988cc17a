import type { TaskState } from './states.js';

/**
 * A MANUAL task waiting for a decision is READY with this reason (what the store's approval queries
 * look for) and a `notBefore` of its SLA's end, or {@link NO_SLA} without one: no ant ever takes it,
 * and the scheduler's wake-up and the SLA sweep see it only once its SLA has passed.
 */
export const AWAITING_APPROVAL = 'waiting for approval';

/** The latest time a Date can hold: a wait that never ends by itself. */
export const NO_SLA = 8_640_000_000_000_000;

/** APPROVED or REJECTED: one approver's vote, or a MANUAL task's decision. */
export type ApprovalDecision = 'APPROVED' | 'REJECTED';

/** One approver's vote on a MANUAL task while it waits. */
export interface ApprovalVote {
  readonly jobId: string;
  readonly taskType: string;
  /**
   * Which wait the vote belongs to: the seq of the task's timeline row that made it READY. A restart
   * makes the task wait again with a new round, so earlier votes no longer count.
   */
  readonly round: number;
  readonly approver: string;
  readonly decision: ApprovalDecision;
  readonly comment?: string;
  /** The roles the approver held when voting (what `required_roles` was checked against). */
  readonly roles: readonly string[];
  readonly at: Date;
}

/** One approver's vote as the queen takes it: who (from the caller's identity), their roles, and why. */
export interface TaskVote {
  readonly decision: ApprovalDecision;
  readonly approver: string;
  readonly roles: readonly string[];
  readonly comment?: string;
}

/** A MANUAL task's approval: its policy, whether it still waits, and the votes of its current round. */
export interface ApprovalStatus {
  readonly jobId: string;
  readonly taskType: string;
  readonly state: TaskState;
  readonly waiting: boolean;
  /** Once decided: how (the reason in the timeline says who). */
  readonly decision?: ApprovalDecision;
  readonly reason?: string;
  /** When the SLA ends, while it waits with one. */
  readonly dueAt?: Date;
  readonly policy: {
    readonly minApprovals: number;
    readonly requiredApprovers: readonly string[];
    readonly requiredRoles: readonly string[];
    readonly unanimous: boolean;
    readonly slaMs?: number;
    readonly timeoutAction: string;
  };
  readonly votes: readonly ApprovalVote[];
}
