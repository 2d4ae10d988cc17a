import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApprovalDecision, ApprovalStatus, QueenService } from '../../queen/service.js';
import type { SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { ApprovalListSchema, ApprovalRef, DecisionBody, IdParams, problemResponses, TaskParams } from '../schemas.js';

type Wire = Record<string, unknown>;

export function approvalToWire(status: ApprovalStatus): Wire {
  return {
    job_id: status.jobId,
    task_type: status.taskType,
    state: status.state,
    waiting: status.waiting,
    ...(status.decision === undefined ? {} : { decision: status.decision }),
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.dueAt === undefined ? {} : { due_at: status.dueAt.toISOString() }),
    policy: {
      min_approvals: status.policy.minApprovals,
      required_approvers: status.policy.requiredApprovers,
      required_roles: status.policy.requiredRoles,
      unanimous: status.policy.unanimous,
      ...(status.policy.slaMs === undefined ? {} : { sla_ms: status.policy.slaMs }),
      timeout_action: status.policy.timeoutAction,
    },
    votes: status.votes.map((vote) => ({
      approver: vote.approver,
      decision: vote.decision,
      ...(vote.comment === undefined ? {} : { comment: vote.comment }),
      roles: vote.roles,
      at: vote.at.toISOString(),
    })),
  };
}

/**
 * Who votes. Under authentication the caller's user (or its token, when the token has no user),
 * with their roles: the organisation role and the names of their teams; a body naming someone else
 * is refused. Without authentication (a development queen) the body's `approver`, self-declared.
 */
async function approverOf(request: FastifyRequest, security: SecurityStore | undefined): Promise<{ name: string; roles: string[] }> {
  const claimed = (request.body as { approver?: string } | null | undefined)?.approver;
  const principal = request.principal;
  if (!principal) return { name: claimed ?? 'anonymous', roles: [] };
  if (!principal.userId || !security) {
    const name = `token:${principal.tokenId}`;
    if (claimed !== undefined && claimed !== name) throw approverTaken();
    return { name, roles: [] };
  }
  const userId = principal.userId;
  const [user, role, teams] = await Promise.all([
    security.user(userId),
    security.role(principal.orgId, userId),
    security.teams(principal.orgId),
  ]);
  const name = user?.name ?? userId;
  if (claimed !== undefined && claimed !== name) throw approverTaken();
  const teamNames = teams.filter((team) => team.members.includes(userId)).map((team) => team.name);
  return { name, roles: [...(role === undefined ? [] : [role]), ...teamNames] };
}

const approverTaken = () =>
  new ProblemError('validation-error', 'approver is the authenticated caller: leave it out', [
    { field: 'approver', in: 'body', message: 'must be absent (or the caller) under authentication' },
  ]);

/** MANUAL tasks: their approvals, and the votes that decide them (scope `approve`). */
export async function approvalRoutes(app: FastifyInstance, queen: QueenService, security?: SecurityStore): Promise<void> {
  const decideTask = queen.decideTask?.bind(queen);
  const approvals = queen.approvals?.bind(queen);
  if (decideTask === undefined || approvals === undefined) return;

  app.get(
    '/jobs/requests/:id/approvals',
    {
      schema: {
        summary: "The approvals of a job's MANUAL tasks: policy, whether each still waits, the votes of its current wait",
        tags: ['requests'],
        params: IdParams,
        response: { 200: ApprovalListSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return { items: (await approvals(id)).map(approvalToWire) };
    },
  );

  const vote = (decision: ApprovalDecision, summary: string) =>
    app.post(
      `/jobs/requests/:id/tasks/:task/${decision === 'APPROVED' ? 'approve' : 'reject'}`,
      {
        schema: {
          summary,
          tags: ['requests'],
          params: TaskParams,
          body: DecisionBody,
          response: { 200: ApprovalRef, ...problemResponses(400, 403, 404, 409) },
        },
      },
      async (request) => {
        const { id, task } = request.params as { id: string; task: string };
        const comment = (request.body as { comment?: string } | null | undefined)?.comment;
        const approver = await approverOf(request, security);
        const status = await decideTask(id, task, {
          decision,
          approver: approver.name,
          roles: approver.roles,
          ...(comment === undefined ? {} : { comment }),
        });
        return approvalToWire(status);
      },
    );
  vote('APPROVED', "Approve a MANUAL task waiting for a decision: the caller's vote, decided once its approval policy is met");
  vote('REJECTED', "Reject a MANUAL task waiting for a decision: the caller's vote, decided once its approval policy is met");
}
