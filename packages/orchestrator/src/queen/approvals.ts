import type { Logger } from 'pino';
import { formatDuration } from '../definition/duration.js';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import { type ApprovalStatus, AWAITING_APPROVAL, NO_SLA, type TaskVote } from '../domain/approvals.js';
import { isTerminalJob, RUNNABLE_JOB_STATES } from '../domain/states.js';
import { ineligibility, requiredApprovers, slaMs, tally, timeoutAction } from '../engine/approvals.js';
import { awaitingApproval, type Supervisor } from '../engine/supervisor.js';
import type { ApprovalDecision, ApprovalStore, ApprovalVote } from '../store/approvals.js';
import type { JobStore, NewLogLine, TaskRow } from '../store/store.js';
import { QueenError } from './errors.js';

/** Lapsed approvals one sweep acts on; the next pass takes the rest. */
const SWEEP_BATCH = 50;
const MAX_APPROVER = 200;
const MAX_COMMENT = 2000;

export interface QueenApprovalsOptions {
  readonly store: JobStore;
  readonly votes: ApprovalStore;
  readonly supervisor: Supervisor;
  readonly definition: (jobType: string, version: number) => Promise<JobDefinition>;
  readonly appendLogs: (lines: readonly NewLogLine[]) => Promise<unknown>;
  /** Called after a decision committed (the scheduler has new work). */
  readonly decided: () => void;
  readonly logger: Logger;
}

const summarise = (votes: readonly ApprovalVote[], decision: ApprovalDecision): string => {
  const deciders = votes.filter((v) => v.decision === decision);
  const comments = deciders.filter((v) => v.comment !== undefined).map((v) => `${v.approver}: ${v.comment}`);
  return `${decision} by ${deciders.map((v) => v.approver).join(', ')}${comments.length > 0 ? ` (${comments.join('; ')})` : ''}`;
};

/**
 * MANUAL tasks on the queen's store: votes, their count under the task's approval policy, and the
 * SLA sweep. Nothing is held in memory: the votes are rows, the decision is the supervisor's
 * compare-and-set on the job, and any queen's scheduler pass sweeps the lapsed SLAs, so a queen that
 * dies with a task waiting leaves nothing behind.
 */
/** How the reason of a decided task begins. */
const DECIDED = /^(APPROVED|REJECTED)\b/;

export class QueenApprovals {
  constructor(private readonly options: QueenApprovalsOptions) {}

  /** Records `vote` on the waiting MANUAL task and decides it when the votes say so. */
  async vote(jobId: string, taskType: string, vote: TaskVote): Promise<ApprovalStatus> {
    checkVote(vote);
    const { store, votes } = this.options;
    const job = await store.job(jobId);
    if (!job) throw new QueenError('not_found', `job ${jobId} does not exist`, 'id');
    const task = await this.manualTask(job.jobType, job.version, jobId, taskType);
    const refused = ineligibility(task.approvalPolicy, { name: vote.approver, roles: vote.roles });
    if (refused !== undefined) throw new QueenError('forbidden', refused, 'approver');
    if (!RUNNABLE_JOB_STATES.includes(job.state) || job.stop !== undefined) {
      const state = job.stop === 'cancel' && !isTerminalJob(job.state) ? 'being cancelled' : job.state;
      throw new QueenError('conflict', `job ${jobId} is ${state}: nothing waits for a decision`);
    }
    const at = new Date();
    const { recorded, waiting } = await votes.vote({
      jobId,
      taskType,
      approver: vote.approver,
      decision: vote.decision,
      roles: vote.roles,
      at,
      ...(vote.comment === undefined ? {} : { comment: vote.comment }),
    });
    if (!waiting) {
      const row = (await store.tasks(jobId)).find((t) => t.taskType === taskType);
      throw new QueenError(
        'conflict',
        `task ${taskType} of job ${jobId} is not waiting for a decision: it is ${row?.state ?? 'unknown'}${row?.reason ? ` (${row.reason})` : ''}`,
      );
    }
    if (!recorded) throw new QueenError('conflict', `${vote.approver} has already voted on task ${taskType} of job ${jobId}`, 'approver');
    const row = (await store.tasks(jobId)).find((t) => t.taskType === taskType);
    await this.options.appendLogs([
      {
        jobId,
        taskType,
        attempt: row?.attempt ?? 0,
        stream: 'system',
        at,
        text: `${vote.approver} voted ${vote.decision}${vote.comment === undefined ? '' : `: ${vote.comment}`}`,
      },
    ]);
    await this.settle(jobId, task);
    return this.status(jobId, taskType);
  }

  /** The approval of every MANUAL task of the job (its policy, state and current votes). */
  async statuses(jobId: string): Promise<readonly ApprovalStatus[]> {
    const job = await this.options.store.job(jobId);
    if (!job) throw new QueenError('not_found', `job ${jobId} does not exist`, 'id');
    const definition = await this.options.definition(job.jobType, job.version);
    const rows = await this.options.store.tasks(jobId);
    // MANUAL tasks, and any task an attempt sent to WAIT_FOR_APPROVAL, while it waits and once decided.
    const row = (task: TaskDefinition) => rows.find((r) => r.taskType === task.taskType);
    return Promise.all(
      definition.tasks
        .filter((t) => {
          const found = row(t);
          return t.method === 'MANUAL' || (found !== undefined && (awaitingApproval(found) || DECIDED.test(found.reason ?? '')));
        })
        .map((task) => this.statusOf(jobId, task, row(task))),
    );
  }

  async status(jobId: string, taskType: string): Promise<ApprovalStatus> {
    const found = (await this.statuses(jobId)).find((s) => s.taskType === taskType);
    if (!found) throw new QueenError('not_found', `job ${jobId} has no MANUAL task ${taskType}`, 'taskType');
    return found;
  }

  /**
   * Acts on MANUAL tasks whose SLA has passed: votes that already decide win (a queen may have died
   * between a vote and its count), else the policy's timeout action. Run by every queen's scheduler
   * pass; the compare-and-set lets one of them act on each lapse.
   */
  async sweep(now: number): Promise<void> {
    const lapsed = await this.options.votes.lapsed(now, SWEEP_BATCH);
    for (const item of lapsed) {
      try {
        const definition = await this.options.definition(item.jobType, item.version);
        const task = definition.tasks.find((t) => t.taskType === item.taskType);
        if (task?.method !== 'MANUAL') continue;
        if (await this.settle(item.jobId, task)) continue;
        await this.lapse(item.jobId, task);
      } catch (error) {
        this.options.logger.warn({ err: error, jobId: item.jobId, taskType: item.taskType }, 'approval SLA sweep failed for a task');
      }
    }
  }

  private async lapse(jobId: string, task: TaskDefinition): Promise<void> {
    const policy = task.approvalPolicy;
    const action = timeoutAction(policy);
    const sla = `the SLA of ${formatDuration(slaMs(policy) ?? 0)} passed`;
    if (action === 'ESCALATE') {
      const recipients = policy?.escalation_recipients;
      const to = recipients === undefined ? 'no one named' : Array.isArray(recipients) ? recipients.join(', ') : String(recipients);
      const escalated = await this.options.supervisor.escalateApproval(
        jobId,
        task.taskType,
        `${AWAITING_APPROVAL} (${sla}; escalated to ${to})`,
      );
      if (!escalated) return;
      const row = (await this.options.store.tasks(jobId)).find((t) => t.taskType === task.taskType);
      const message = policy?.escalation_message ?? `approval of ${task.taskType} is overdue`;
      this.options.logger.warn({ jobId, taskType: task.taskType, recipients: to }, `approval escalated: ${message}`);
      await this.options.appendLogs([
        {
          jobId,
          taskType: task.taskType,
          attempt: row?.attempt ?? 0,
          stream: 'system',
          at: new Date(),
          text: `escalated to ${to}: ${message}`,
        },
      ]);
      return;
    }
    const decision: ApprovalDecision = action === 'AUTO_APPROVE' ? 'APPROVED' : 'REJECTED';
    if (await this.options.supervisor.decideApproval(jobId, task.taskType, decision, `${decision}: ${sla} (${action})`))
      this.options.decided();
  }

  /** Decides the task when its current votes say so; true when they did (whoever committed it). */
  private async settle(jobId: string, task: TaskDefinition): Promise<boolean> {
    const current = await this.options.votes.currentVotes(jobId, task.taskType);
    const decision = tally(task.approvalPolicy, current);
    if (decision === undefined) return false;
    if (await this.options.supervisor.decideApproval(jobId, task.taskType, decision, summarise(current, decision))) this.options.decided();
    return true;
  }

  private async manualTask(jobType: string, version: number, jobId: string, taskType: string): Promise<TaskDefinition> {
    const definition = await this.options.definition(jobType, version);
    const task = definition.tasks.find((t) => t.taskType === taskType);
    if (!task) throw new QueenError('not_found', `job ${jobId} has no task ${taskType}`, 'taskType');
    const waiting = async () => {
      const row = (await this.options.store.tasks(jobId)).find((t) => t.taskType === taskType);
      return row !== undefined && awaitingApproval(row);
    };
    if (task.method !== 'MANUAL' && !(await waiting())) {
      throw new QueenError(
        'invalid',
        `task ${taskType} is a ${task.method} task: only MANUAL tasks, and tasks a WAIT_FOR_APPROVAL route holds, are approved or rejected`,
        'taskType',
      );
    }
    return task;
  }

  private async statusOf(jobId: string, task: TaskDefinition, row: TaskRow | undefined): Promise<ApprovalStatus> {
    const policy = task.approvalPolicy;
    const waiting = row !== undefined && awaitingApproval(row);
    const decided = row?.reason?.match(DECIDED)?.[1] as ApprovalDecision | undefined;
    const sla = slaMs(policy);
    const roles = policy?.required_roles;
    return {
      jobId,
      taskType: task.taskType,
      state: row?.state ?? 'PENDING',
      waiting,
      ...(decided === undefined || waiting ? {} : { decision: decided }),
      ...(row?.reason === undefined ? {} : { reason: row.reason }),
      ...(waiting && row?.notBefore !== undefined && row.notBefore < NO_SLA ? { dueAt: new Date(row.notBefore) } : {}),
      policy: {
        minApprovals: policy?.min_approvals ?? 1,
        requiredApprovers: requiredApprovers(policy),
        requiredRoles: roles === undefined ? [] : typeof roles === 'string' ? [roles] : roles,
        unanimous: policy?.require_unanimous === true,
        ...(sla === undefined ? {} : { slaMs: sla }),
        timeoutAction: timeoutAction(policy),
      },
      votes: row === undefined ? [] : await this.options.votes.currentVotes(jobId, task.taskType),
    };
  }
}

/** The queen's own check of a vote (the API's schema checks the wire first; embedders call the queen directly). */
function checkVote(vote: TaskVote): void {
  if (vote.decision !== 'APPROVED' && vote.decision !== 'REJECTED') {
    throw new QueenError('invalid', 'decision must be APPROVED or REJECTED', 'decision');
  }
  if (typeof vote.approver !== 'string' || vote.approver.trim() === '' || vote.approver.length > MAX_APPROVER) {
    throw new QueenError('invalid', `approver must be a non-empty name of at most ${MAX_APPROVER} characters`, 'approver');
  }
  if (!Array.isArray(vote.roles) || vote.roles.some((role) => typeof role !== 'string')) {
    throw new QueenError('invalid', 'roles must be a list of role names', 'roles');
  }
  if (vote.comment !== undefined && (typeof vote.comment !== 'string' || vote.comment.length > MAX_COMMENT)) {
    throw new QueenError('invalid', `comment must be text of at most ${MAX_COMMENT} characters`, 'comment');
  }
}
