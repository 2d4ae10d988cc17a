import type { ApprovalDecision, ApprovalVote } from '../domain/approvals.js';

export type { ApprovalDecision, ApprovalVote };

export type NewApprovalVote = Omit<ApprovalVote, 'round'>;

/** A MANUAL task whose SLA has passed while it still waits for a decision. */
export interface LapsedApproval {
  readonly jobId: string;
  readonly jobType: string;
  readonly version: number;
  readonly taskType: string;
  /** When the SLA ended (epoch ms). */
  readonly dueAt: number;
}

/**
 * The votes on MANUAL tasks (migration 0008-approvals). The decision itself is the task's
 * transition, written by the supervisor's compare-and-set; these are the ballots it is counted from.
 */
export interface ApprovalStore {
  /**
   * Records the vote in the task's current round, only while the task waits for a decision (one
   * statement, so a vote never lands in a round that is over). `recorded` is false when the task is
   * not waiting (`waiting: false`) or this approver has already voted in the round.
   */
  vote(vote: NewApprovalVote): Promise<{ readonly recorded: boolean; readonly waiting: boolean }>;
  /** The votes of the task's current round (the latest wait), oldest first. */
  currentVotes(jobId: string, taskType: string): Promise<readonly ApprovalVote[]>;
  /** Every vote on the job's tasks, all rounds, oldest first. */
  votes(jobId: string): Promise<readonly ApprovalVote[]>;
  /** Waiting MANUAL tasks of READY/EXECUTING jobs whose SLA ended at or before `now`, earliest first. */
  lapsed(now: number, limit: number): Promise<readonly LapsedApproval[]>;
}
