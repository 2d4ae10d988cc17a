import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobDetailWire, JobPageWire, JobSummaryWire } from '../../src/index.js';
import { apiPerTest, apply, call, ended, expectProblem, submit, waitFor } from './harness.js';

const PIPELINE = `job_type: pipeline
priority: 40
tasks:
  - task_type: produce
    script:
      - echo "making {{.Thing}}"
      - echo "::set-output name=Made::{{.Thing}}-done"
    on_completed: consume
  - task_type: consume
    script:
      - echo "got {{.Made}}"
      - test "{{.Made}}" = "{{.Thing}}-done"
`;

const FLAKY = `job_type: flaky
tasks:
  - task_type: fail-once
    retry: 1
    delay_between_retries: 0s
    script:
      - test {{.TaskRetry}} -ge 1
`;

const SLOW = `job_type: slow
tasks:
  - task_type: first
    script:
      - echo started
    on_completed: nap
  - task_type: nap
    script:
      - sleep {{.Seconds}}
`;

const PAUSING = `job_type: pausing
tasks:
  - task_type: first
    script: ['sleep 0.6']
    on_completed: second
  - task_type: second
    script: ['echo second']
`;

const FAILING = `job_type: failing
tasks:
  - task_type: ok
    script: ['echo fine']
    on_completed: boom
  - task_type: boom
    script: ['echo "::set-output name=Tried::yes"', 'exit 3']
`;

describe('job requests API: submit and read', () => {
  const api = apiPerTest();

  it('submits (201 + Location) and reports tasks, attempts, exit codes, outputs and the timeline', async () => {
    await apply(api.current, PIPELINE);
    await apply(api.current, FLAKY);
    const reply = await call<JobSummaryWire>(api.current, 'POST', '/api/jobs/requests', {
      job_type: 'pipeline',
      params: { Thing: 'widget' },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ job_type: 'pipeline', version: 1, priority: 40, params: { Thing: 'widget' }, retry: 0 });
    expect(reply.headers.get('location')).toBe(`/api/jobs/requests/${reply.body.id}`);

    const job = await waitFor(api.current, reply.body.id, ended);
    expect(job.state).toBe('COMPLETED');
    expect(job.tasks.map((t) => [t.task_type, t.state, t.exit_code])).toEqual([
      ['produce', 'COMPLETED', 0],
      ['consume', 'COMPLETED', 0],
    ]);
    expect(job.tasks[0]?.outputs).toEqual({ Made: 'widget-done' });
    expect(job.tasks[0]?.attempts).toHaveLength(1);
    expect(job.tasks[0]?.attempts[0]).toMatchObject({ attempt: 1, state: 'COMPLETED', exit_code: 0 });
    expect(Date.parse(job.started_at ?? '')).toBeLessThanOrEqual(Date.parse(job.ended_at ?? ''));
    const jobLevel = job.timeline.filter((e) => e.task_type === undefined).map((e) => e.to);
    expect(jobLevel.at(-1)).toBe('COMPLETED');
    expect(jobLevel).toContain('EXECUTING');
    const seqs = job.timeline.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const flaky = await waitFor(api.current, (await submit(api.current, { job_type: 'flaky' })).id, ended);
    expect(flaky.state).toBe('COMPLETED');
    expect(flaky.tasks[0]?.attempts.map((a) => [a.attempt, a.state, a.exit_code])).toEqual([
      [1, 'FAILED', 1],
      [2, 'COMPLETED', 0],
    ]);
  });

  it('a failing job ends FAILED with the failing exit code and the outputs it set', async () => {
    await apply(api.current, FAILING);
    const job = await waitFor(api.current, (await submit(api.current, { job_type: 'failing' })).id, ended);
    expect(job.state).toBe('FAILED');
    const boom = job.tasks.find((t) => t.task_type === 'boom');
    expect(boom).toMatchObject({ state: 'FAILED', exit_code: 3 });
    expect(job.reason).toMatch(/boom/);
  });

  it('names every invalid body field in a 400 problem', async () => {
    await apply(api.current, PIPELINE);
    const cases: [unknown, string[]][] = [
      [{}, ['job_type']],
      [{ job_type: 'pipeline', priority: 101 }, ['priority']],
      [{ job_type: 'pipeline', priority: '5' }, ['priority']],
      [{ job_type: 'pipeline', jobType: 'x' }, ['jobType']],
      [{ job_type: 'pipeline', scheduled_at: 'tomorrow' }, ['scheduled_at']],
      [{ job_type: 'pipeline', params: [1, 2] }, ['params']],
      [{ job_type: '', priority: -1 }, ['job_type', 'priority']],
    ];
    for (const [body, fields] of cases) {
      const problem = expectProblem(await call(api.current, 'POST', '/api/jobs/requests', body), 400);
      expect(problem.type).toBe('urn:myrmex:problem:validation-error');
      expect(problem.errors?.map((e) => e.field).sort(), JSON.stringify(body)).toEqual(fields);
      expect(problem.errors?.every((e) => e.in === 'body')).toBe(true);
    }
    const notJson = expectProblem(await call(api.current, 'POST', '/api/jobs/requests', '{"job_type":', 'application/json'), 400);
    expect(notJson.detail).toMatch(/JSON/);
    const list = await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact');
    expect(list.body.total).toBe(0);
  });

  it('refuses an unknown job type with 422 naming job_type', async () => {
    const problem = expectProblem(await call(api.current, 'POST', '/api/jobs/requests', { job_type: 'ghost' }), 422);
    expect(problem.type).toBe('urn:myrmex:problem:unknown-job-type');
    expect(problem.errors).toEqual([{ field: 'job_type', in: 'body', message: 'is not a defined job type' }]);
  });

  it('holds a request with a future scheduled_at in PENDING', async () => {
    await apply(api.current, PIPELINE);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const job = await submit(api.current, { job_type: 'pipeline', params: { Thing: 'x' }, scheduled_at: at, priority: 99 });
    expect(job).toMatchObject({ state: 'PENDING', scheduled_at: at, priority: 99 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call<JobDetailWire>(api.current, 'GET', `/api/jobs/requests/${job.id}`)).body.state).toBe('PENDING');
  });

  it('lists with filters by state and type, and paginates with a stable total', async () => {
    await apply(api.current, PIPELINE);
    await apply(api.current, FAILING);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(api.current, { job_type: 'pipeline', params: { Thing: `t${i}` } })).id);
    const failed = (await submit(api.current, { job_type: 'failing' })).id;
    for (const id of [...ids, failed]) await waitFor(api.current, id, ended);

    const all = await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact');
    expect(all.body).toMatchObject({ total: 6, limit: 50, offset: 0 });
    const byType = await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?job_type=pipeline&count=exact');
    expect(byType.body.total).toBe(5);
    expect(byType.body.items.every((j) => j.job_type === 'pipeline')).toBe(true);
    const byState = await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?state=FAILED');
    expect(byState.body.items.map((j) => j.id)).toEqual([failed]);

    const pages: string[] = [];
    for (let offset = 0; offset < 6; offset += 2) {
      const page = await call<JobPageWire>(api.current, 'GET', `/api/jobs/requests?limit=2&offset=${offset}&count=exact`);
      expect(page.body).toMatchObject({ total: 6, limit: 2, offset });
      pages.push(...page.body.items.map((j) => j.id));
    }
    expect(new Set(pages)).toEqual(new Set([...ids, failed]));
  });

  it('pages partition the list: any limit walks every job exactly once, newest first', async () => {
    await apply(api.current, PIPELINE);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await submit(api.current, { job_type: 'pipeline', params: { Thing: `p${i}` }, scheduled_at: '2099-01-01T00:00:00Z' })).id);
    const everything = (await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?limit=1000')).body.items.map((j) => j.id);
    expect(everything).toEqual([...ids].reverse());
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 3 }), async (limit, start) => {
        const walked: string[] = [];
        for (let offset = start; ; offset += limit) {
          const page = (await call<JobPageWire>(api.current, 'GET', `/api/jobs/requests?limit=${limit}&offset=${offset}&count=exact`)).body;
          expect(page.total).toBe(7);
          walked.push(...page.items.map((j) => j.id));
          if (page.items.length < limit) break;
        }
        expect(walked).toEqual(everything.slice(start));
      }),
      { numRuns: 25 },
    );
  });

  it('any unknown body field is a 400 that names it, and nothing is submitted', async () => {
    await apply(api.current, PIPELINE);
    const known = new Set(['job_type', 'params', 'priority', 'scheduled_at']);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !known.has(key) && key !== '__proto__'),
        // Fastify refuses prototype-poisoning bodies (__proto__, constructor.prototype) before validation.
        fc.jsonValue().filter((value) => !/"(__proto__|prototype)"/.test(JSON.stringify(value))),
        async (key, value) => {
          const problem = expectProblem(await call(api.current, 'POST', '/api/jobs/requests', { job_type: 'pipeline', [key]: value }), 400);
          expect(problem.errors).toContainEqual({ field: key, in: 'body', message: 'is not a known field' });
        },
      ),
      { numRuns: 30 },
    );
    expect((await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact')).body.total).toBe(0);
  });

  it('names every invalid query parameter and path in 400 problems, and 404s an unknown id', async () => {
    const problem = expectProblem(await call(api.current, 'GET', '/api/jobs/requests?state=DONE&limit=0&offset=-1&colour=red'), 400);
    expect(problem.errors?.map((e) => [e.in, e.field]).sort()).toEqual([
      ['query', 'colour'],
      ['query', 'limit'],
      ['query', 'offset'],
      ['query', 'state'],
    ]);
    expect(problem.errors?.find((e) => e.field === 'state')?.message).toContain('PENDING, READY, EXECUTING');
    const missing = expectProblem(await call(api.current, 'GET', '/api/jobs/requests/no-such-job'), 404);
    expect(missing.detail).toContain('no-such-job');
    expect(missing.instance).toBe('/api/jobs/requests/no-such-job');
    const route = expectProblem(await call(api.current, 'GET', '/api/no/such/route'), 404);
    expect(route.detail).toBe('there is no route GET /api/no/such/route');
  });
});

describe('job requests API: cancel and restart', () => {
  const api = apiPerTest();

  it('cancels a running job (its task killed), refuses a second cancel, restarts it to completion', async () => {
    await apply(api.current, SLOW);
    const job = await submit(api.current, { job_type: 'slow', params: { Seconds: 30 } });
    await waitFor(api.current, job.id, (j) => j.tasks.some((t) => t.task_type === 'nap' && t.state === 'EXECUTING'));

    const started = Date.now();
    const cancelled = await call<JobSummaryWire>(api.current, 'POST', `/api/jobs/requests/${job.id}/cancel`, { reason: 'test says stop' });
    expect(cancelled.status).toBe(200);
    const after = await waitFor(api.current, job.id, ended);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(after.state).toBe('CANCELLED');
    expect(after.tasks.find((t) => t.task_type === 'nap')?.state).toBe('CANCELLED');
    expect(after.tasks.find((t) => t.task_type === 'first')?.state).toBe('COMPLETED');

    const again = expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/cancel`, {}), 409);
    expect(again.type).toBe('urn:myrmex:problem:invalid-state');
    expect(again.detail).toContain('CANCELLED');

    // Soft restart: only the cancelled task runs again; the completed one keeps its single attempt.
    const restarted = await call<JobSummaryWire>(api.current, 'POST', `/api/jobs/requests/${job.id}/restart`, { hard: false });
    expect(restarted.status).toBe(200);
    expect(restarted.body.id).toBe(job.id);
    const cancelledAgain = await waitFor(api.current, job.id, (j) => j.tasks.find((t) => t.task_type === 'nap')?.state === 'EXECUTING');
    expect(cancelledAgain.tasks.find((t) => t.task_type === 'first')?.attempts).toHaveLength(1);
    await call(api.current, 'POST', `/api/jobs/requests/${job.id}/cancel`);
    await waitFor(api.current, job.id, ended);

    // Hard restart: every task runs again.
    await call(api.current, 'POST', `/api/jobs/requests/${job.id}/restart`, { hard: true });
    const hard = await waitFor(api.current, job.id, (j) => j.tasks.find((t) => t.task_type === 'nap')?.state === 'EXECUTING');
    expect(hard.tasks.find((t) => t.task_type === 'first')?.attempts.length).toBeGreaterThanOrEqual(2);
    await call(api.current, 'POST', `/api/jobs/requests/${job.id}/cancel`);
    await waitFor(api.current, job.id, ended);
  });

  it('pauses a running job (the running task finishes, nothing new starts) and resumes it to completion', async () => {
    await apply(api.current, PAUSING);
    const job = await submit(api.current, { job_type: 'pausing' });
    await waitFor(api.current, job.id, (j) => j.state === 'EXECUTING');
    const paused = await call<JobSummaryWire>(api.current, 'POST', `/api/jobs/requests/${job.id}/pause`, { reason: 'deploy freeze' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ state: 'PAUSED', reason: 'deploy freeze' });
    const twice = expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/pause`, {}), 409);
    expect(twice.detail).toMatch(/PAUSED.*only READY or EXECUTING/);
    const bad = expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/pause`, { reason: 5 }), 400);
    expect(bad.errors?.some((e) => e.field === 'reason')).toBe(true);
    const unknownField = expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/resume`, { now: true }), 400);
    expect(unknownField.errors?.some((e) => e.field === 'now')).toBe(true);
    await waitFor(api.current, job.id, (j) => j.tasks[0]?.state === 'COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = (await call<JobDetailWire>(api.current, 'GET', `/api/jobs/requests/${job.id}`)).body;
    expect(held.state).toBe('PAUSED');
    expect(held.tasks.find((t) => t.task_type === 'second')).toMatchObject({ state: 'READY', attempts: [] });

    const resumed = await call<JobSummaryWire>(api.current, 'POST', `/api/jobs/requests/${job.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.state).not.toBe('PAUSED');
    expect((await waitFor(api.current, job.id, ended)).state).toBe('COMPLETED');
    expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/resume`, {}), 409);
    expectProblem(await call(api.current, 'POST', '/api/jobs/requests/nope/pause', {}), 404);
    expectProblem(await call(api.current, 'POST', '/api/jobs/requests/nope/resume', {}), 404);
  });

  it('refuses to restart a job that is not FAILED or CANCELLED, and validates the restart body', async () => {
    await apply(api.current, PIPELINE);
    const job = await waitFor(api.current, (await submit(api.current, { job_type: 'pipeline', params: { Thing: 'a' } })).id, ended);
    expect(job.state).toBe('COMPLETED');
    const problem = expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/restart`, {}), 409);
    expect(problem.detail).toMatch(/COMPLETED.*only FAILED or CANCELLED/);
    const bad = expectProblem(await call(api.current, 'POST', `/api/jobs/requests/${job.id}/restart`, { hard: 'yes' }), 400);
    expect(bad.errors?.some((e) => e.field === 'hard')).toBe(true);
    expectProblem(await call(api.current, 'POST', '/api/jobs/requests/nope/restart', {}), 404);
    expectProblem(await call(api.current, 'POST', '/api/jobs/requests/nope/cancel', {}), 404);
  });

  it('restarts a FAILED job: the failed task runs again, the completed one is kept', async () => {
    await apply(api.current, FAILING);
    const job = await waitFor(api.current, (await submit(api.current, { job_type: 'failing' })).id, ended);
    expect(job.state).toBe('FAILED');
    await call(api.current, 'POST', `/api/jobs/requests/${job.id}/restart`);
    const again = await waitFor(
      api.current,
      job.id,
      (j) => ended(j) && (j.tasks.find((t) => t.task_type === 'boom')?.attempts.length ?? 0) >= 2,
    );
    expect(again.state).toBe('FAILED');
    expect(again.tasks.find((t) => t.task_type === 'ok')?.attempts).toHaveLength(1);
  });
});
