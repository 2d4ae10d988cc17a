import { describe, expect, it } from 'vitest';
import type { ApprovalWire, JobDetailWire } from '../../src/api/schemas.js';
import { apiPerTest, apply, call, expectProblem, submit } from '../api/harness.js';
import { until } from '../queen/helpers.js';
import { openSecured, req } from '../security/harness.js';

const GATED = `job_type: gated
tasks:
  - task_type: build
    method: SHELL
    script: ["true"]
    on_completed: gate
  - task_type: gate
    method: MANUAL
    approval_policy:
      min_approvals: 2
      required_roles: [release]
    on_exit_code:
      APPROVED: deploy
      REJECTED: abort
  - task_type: deploy
    method: SHELL
    script: ["true"]
  - task_type: abort
    method: SHELL
    script: ["true"]
`;

const OPEN_GATE = GATED.replace('      required_roles: [release]\n', '');

describe('approval routes without authentication', () => {
  const api = apiPerTest();

  it('lists the approval, takes votes with comments, decides, and shows the decision in the timeline', async () => {
    await apply(api.current, OPEN_GATE);
    const job = await submit(api.current, { job_type: 'gated' });
    const approvals = `/api/jobs/requests/${job.id}/approvals`;
    const waiting = await until(async () => {
      const reply = await call<{ items: ApprovalWire[] }>(api.current, 'GET', approvals);
      return reply.body.items[0]?.waiting ? reply.body.items[0] : undefined;
    });
    expect(waiting).toMatchObject({ task_type: 'gate', state: 'READY', policy: { min_approvals: 2, unanimous: false }, votes: [] });

    const approve = `/api/jobs/requests/${job.id}/tasks/gate/approve`;
    const first = await call<ApprovalWire>(api.current, 'POST', approve, { approver: 'alice', comment: 'looks good' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ waiting: true, votes: [{ approver: 'alice', decision: 'APPROVED', comment: 'looks good' }] });
    expect(expectProblem(await call(api.current, 'POST', approve, { approver: 'alice' }), 409).detail).toContain('alice has already voted');
    const second = await call<ApprovalWire>(api.current, 'POST', approve, { approver: 'bob' });
    expect(second.body).toMatchObject({ waiting: false, decision: 'APPROVED', state: 'COMPLETED' });
    const rejectLate = await call(api.current, 'POST', `/api/jobs/requests/${job.id}/tasks/gate/reject`, { approver: 'carol' });
    // The job may have ended meanwhile: either way nothing waits.
    expect(expectProblem(rejectLate, 409).detail).toMatch(/is not waiting for a decision|nothing waits for a decision/);

    const detail = await until(async () => {
      const reply = await call<JobDetailWire>(api.current, 'GET', `/api/jobs/requests/${job.id}`);
      return reply.body.state === 'COMPLETED' ? reply.body : undefined;
    });
    expect(detail.timeline.find((e) => e.task_type === 'gate' && e.to === 'COMPLETED')?.reason).toBe(
      'APPROVED by alice, bob (alice: looks good)',
    );
  });

  it('answers bad input with problems naming the field', async () => {
    await apply(api.current, OPEN_GATE);
    const job = await submit(api.current, { job_type: 'gated' });
    const path = (task: string, action = 'approve') => `/api/jobs/requests/${job.id}/tasks/${task}/${action}`;
    for (const body of [{ comment: 5 }, { extra: true }, { approver: '' }, { approver: '   ' }, { comment: 'x'.repeat(2001) }, [1]]) {
      expect(expectProblem(await call(api.current, 'POST', path('gate'), body), 400).errors?.length, JSON.stringify(body)).toBeGreaterThan(
        0,
      );
    }
    expect(expectProblem(await call(api.current, 'POST', path('build'), {}), 400).detail).toContain('only MANUAL tasks');
    expect(expectProblem(await call(api.current, 'POST', path('nope', 'reject'), {}), 404).detail).toContain('has no task nope');
    expect((await call(api.current, 'POST', '/api/jobs/requests/absent/tasks/gate/approve', {})).status).toBe(404);
    expect((await call(api.current, 'GET', '/api/jobs/requests/absent/approvals')).status).toBe(404);
  });
});

describe('approval routes with authentication', () => {
  it('the voter is the token user with their role and teams; approve scope and the policy both apply', async () => {
    const api = await openSecured();
    try {
      const admin = api.auth.bootstrapToken as string;
      for (const user of ['carol', 'dave', 'erin']) {
        expect((await req(api, 'POST', '/api/users', admin, { id: user, role: 'operator' })).status).toBe(201);
      }
      expect((await req(api, 'POST', '/api/users', admin, { id: 'vic', role: 'viewer' })).status).toBe(201);
      expect((await req(api, 'POST', '/api/teams', admin, { name: 'release', members: ['carol', 'dave'] })).status).toBe(201);
      const token = async (user: string, scopes: string[]) =>
        (await req(api, 'POST', '/api/tokens', admin, { name: `${user}-token`, scopes, user_id: user })).body.token as string;
      const [carol, dave, erin, vic] = await Promise.all([
        token('carol', ['read', 'approve']),
        token('dave', ['read', 'approve']),
        token('erin', ['read', 'approve']),
        token('vic', ['read']),
      ]);
      expect((await req(api, 'POST', '/api/jobs/definitions', admin, GATED)).status).toBeLessThan(300);
      const job = (await req(api, 'POST', '/api/jobs/requests', admin, { job_type: 'gated' })).body.id as string;
      await until(async () => (await req(api, 'GET', `/api/jobs/requests/${job}/approvals`, carol)).body.items[0]?.waiting);
      const approve = `/api/jobs/requests/${job}/tasks/gate/approve`;

      expect((await req(api, 'POST', approve, vic, {})).status).toBe(403);
      const outsider = await req(api, 'POST', approve, erin, { comment: 'me too' });
      expect(outsider.status).toBe(403);
      expect(outsider.body.detail).toContain('erin may not decide this task');
      expect((await req(api, 'POST', approve, carol, { approver: 'dave' })).status).toBe(400);

      const first = await req(api, 'POST', approve, carol, { comment: 'ok' });
      expect(first.status).toBe(200);
      expect(first.body.votes).toEqual([expect.objectContaining({ approver: 'carol', roles: ['operator', 'release'] })]);
      const second = await req(api, 'POST', approve, dave, {});
      expect(second.body).toMatchObject({ decision: 'APPROVED' });
    } finally {
      await api.close();
    }
  });
});
