import { unboundedMs } from '../definition/duration.js';
import type { ApprovalPolicySpec, TaskDefinition } from '../definition/model.js';
import type { ApprovalDecision, ApprovalVote } from '../store/approvals.js';

/**
 * Approval policies (MANUAL tasks), pure: who may vote, and when the votes decide. The rules, as
 * docs/orchestrator-definitions.md states them:
 * - without `required_approvers` and `required_roles` anyone allowed to approve may vote; with them,
 *   a listed user or a holder of a listed role;
 * - `require_unanimous`: one rejection rejects; approved once every required approver and at least
 *   `min_approvals` (default 1) voters approved;
 * - otherwise (any-of): approved at `min_approvals` approvals; rejected once that can no longer
 *   happen: the named approvers left cannot reach it, or, when anyone (or a role) may vote, as many
 *   rejections as `min_approvals`.
 */

export interface Approver {
  readonly name: string;
  readonly roles: readonly string[];
}

const listOf = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

export const requiredApprovers = (policy: ApprovalPolicySpec | undefined): readonly string[] => listOf(policy?.required_approvers);
const requiredRoles = (policy: ApprovalPolicySpec | undefined): readonly string[] => listOf(policy?.required_roles);

/** Why `approver` may not vote under `policy`, or undefined when it may. */
export function ineligibility(policy: ApprovalPolicySpec | undefined, approver: Approver): string | undefined {
  const users = requiredApprovers(policy);
  const roles = requiredRoles(policy);
  if (users.length === 0 && roles.length === 0) return undefined;
  if (users.includes(approver.name) || approver.roles.some((role) => roles.includes(role))) return undefined;
  const who = [
    ...(users.length > 0 ? [`one of the approvers ${users.join(', ')}`] : []),
    ...(roles.length > 0 ? [`a holder of the role ${roles.join(' or ')}`] : []),
  ];
  return `${approver.name} may not decide this task: the approval policy asks for ${who.join(' or ')}`;
}

/** The decision the votes make, or undefined while they do not make one yet. */
export function tally(
  policy: ApprovalPolicySpec | undefined,
  votes: readonly Pick<ApprovalVote, 'approver' | 'decision'>[],
): ApprovalDecision | undefined {
  const min = policy?.min_approvals ?? 1;
  const approved = new Set(votes.filter((v) => v.decision === 'APPROVED').map((v) => v.approver));
  const rejected = new Set(votes.filter((v) => v.decision === 'REJECTED').map((v) => v.approver));
  const named = requiredApprovers(policy);
  if (policy?.require_unanimous === true) {
    if (rejected.size > 0) return 'REJECTED';
    return approved.size >= min && named.every((user) => approved.has(user)) ? 'APPROVED' : undefined;
  }
  if (approved.size >= min) return 'APPROVED';
  const closed = named.length > 0 && requiredRoles(policy).length === 0;
  const reachable = closed ? named.filter((user) => !rejected.has(user)).length >= min : rejected.size < min;
  return reachable ? undefined : 'REJECTED';
}

/** The SLA in ms, or undefined when the policy sets none. */
export function slaMs(policy: ApprovalPolicySpec | undefined): number | undefined {
  return policy?.sla_deadline === undefined ? undefined : unboundedMs(policy.sla_deadline);
}

/** What happens when the SLA passes: AUTO_REJECT unless the policy says otherwise (a gate fails closed). */
export const timeoutAction = (policy: ApprovalPolicySpec | undefined) => policy?.timeout_action ?? 'AUTO_REJECT';

/**
 * The task as the exit-code routing sees a decision: APPROVED is its success and REJECTED its
 * failure, so `on_exit_code: { APPROVED: x, REJECTED: y }` routes like Formicary's, and without
 * them `on_completed` / `on_failed` apply. A decision is final: no retry.
 */
export function decisionView(task: TaskDefinition): TaskDefinition {
  const onExitCode: Record<string, string> = {};
  const approved = task.onExitCode.APPROVED ?? task.onExitCode.COMPLETED;
  const rejected = task.onExitCode.REJECTED ?? task.onExitCode.FAILED;
  if (approved !== undefined) onExitCode.COMPLETED = approved;
  if (rejected !== undefined) onExitCode.FAILED = rejected;
  return { ...task, onExitCode, retry: 0 };
}
