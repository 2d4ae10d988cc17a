import { describe, expect, it } from 'vitest';
import type { Approval, Task } from '../src/api.js';
import { policyLine, votesLine } from '../src/approvals.js';
import { parseMetrics, sum } from '../src/metrics.js';
import { edgeStatus } from '../src/routes-taken.js';

const task = (state: string, exit_code?: number): Task => ({
  task_type: 't',
  state,
  outputs: {},
  attempts: [],
  ...(exit_code === undefined ? {} : { exit_code }),
});

describe('routes taken', () => {
  it('marks a route taken only when its source ended the way the route says and its target ran', () => {
    expect(edgeStatus('on_completed', task('COMPLETED', 0), task('COMPLETED', 0))).toBe('taken');
    expect(edgeStatus('on_failed', task('COMPLETED', 0), task('SKIPPED'))).toBe('skipped');
    expect(edgeStatus('exit_code:1', task('COMPLETED', 1), task('EXECUTING'))).toBe('taken');
    expect(edgeStatus('exit_code:0', task('COMPLETED', 1), task('SKIPPED'))).toBe('skipped');
    expect(edgeStatus('needs', task('COMPLETED', 0), task('SKIPPED'))).toBe('skipped');
    expect(edgeStatus('on_completed', task('EXECUTING'), task('PENDING'))).toBe('pending');
    expect(edgeStatus('needs', undefined, task('PENDING'))).toBe('pending');
  });
});

describe('the Prometheus text the queue page reads', () => {
  it('parses samples with escaped label values and sums them by labels', () => {
    const samples = parseMetrics(
      [
        '# HELP myrmex_queue_depth waiting',
        '# TYPE myrmex_queue_depth gauge',
        'myrmex_queue_depth{kind="task",priority="50",tag=""} 3',
        'myrmex_queue_depth{kind="task",priority="90",tag="gpu \\"a\\""} 2',
        'myrmex_queue_depth{kind="job",priority="50",tag=""} 7',
        'nodejs_eventloop_lag_seconds 0.002',
      ].join('\n'),
    );
    expect(samples).toHaveLength(4);
    expect(sum(samples, 'myrmex_queue_depth', { kind: 'task' })).toBe(5);
    expect(sum(samples, 'myrmex_queue_depth')).toBe(12);
    expect(samples[1]?.labels.tag).toBe('gpu \\"a\\"');
    expect(sum(samples, 'nodejs_eventloop_lag_seconds')).toBe(0.002);
  });
});

describe('the approval lines on the Job page', () => {
  const approval: Approval = {
    task_type: 'gate',
    state: 'READY',
    waiting: true,
    due_at: '2026-12-04T10:42:00.000Z',
    policy: {
      min_approvals: 2,
      required_approvers: ['alice'],
      required_roles: ['release'],
      unanimous: true,
      timeout_action: 'AUTO_REJECT',
    },
    votes: [
      { approver: 'alice', decision: 'APPROVED', comment: 'tests pass', at: '2026-12-04T10:40:00.000Z' },
      { approver: 'bob', decision: 'REJECTED', at: '2026-12-04T10:41:00.000Z' },
    ],
  };
  it('says what the policy asks and who voted what', () => {
    expect(policyLine(approval, (iso) => iso.slice(11, 16))).toBe(
      '2 approvals, unanimous, from alice or role release, due 10:42 then AUTO_REJECT',
    );
    expect(votesLine(approval)).toBe('alice APPROVED: tests pass; bob REJECTED');
    const open = {
      ...approval,
      votes: [],
      policy: { ...approval.policy, min_approvals: 1, required_approvers: [], required_roles: [], unanimous: false },
    };
    const { due_at: _, ...noSla } = open;
    expect(policyLine(noSla)).toBe('1 approval');
    expect(votesLine(open)).toBe('no votes yet');
  });
});
