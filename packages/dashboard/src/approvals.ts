import type { Approval } from './api.js';

/** What a MANUAL task's policy asks, in one line: "2 approvals, unanimous, from alice or role release, due 10:42 then AUTO_REJECT". */
export function policyLine(approval: Approval, time: (iso: string) => string = (iso) => new Date(iso).toLocaleTimeString()): string {
  const { policy } = approval;
  const from = [
    ...(policy.required_approvers.length > 0 ? [policy.required_approvers.join(' or ')] : []),
    ...(policy.required_roles.length > 0 ? [`role ${policy.required_roles.join(' or ')}`] : []),
  ];
  return [
    `${policy.min_approvals} approval${policy.min_approvals === 1 ? '' : 's'}`,
    ...(policy.unanimous ? ['unanimous'] : []),
    ...(from.length > 0 ? [`from ${from.join(' or ')}`] : []),
    ...(approval.due_at ? [`due ${time(approval.due_at)} then ${policy.timeout_action}`] : []),
  ].join(', ');
}

/** The votes so far, e.g. "alice APPROVED: tests pass; bob REJECTED". */
export function votesLine(approval: Approval): string {
  return approval.votes.map((v) => `${v.approver} ${v.decision}${v.comment ? `: ${v.comment}` : ''}`).join('; ') || 'no votes yet';
}
