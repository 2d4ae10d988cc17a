import { describe, expect, it } from 'vitest';
import type { JobPageWire } from '../../src/index.js';
import { apiPerTest, apply, call, expectProblem, submit } from './harness.js';

const LATER = `job_type: later
tasks:
  - task_type: only
    script:
      - echo never before 2099
`;

describe('GET /api/jobs/requests with a cursor (keyset pages)', () => {
  const api = apiPerTest();

  it('walks every job once, newest first, by following next_cursor; the last page has none', async () => {
    await apply(api.current, LATER);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(api.current, { job_type: 'later', scheduled_at: '2099-01-01T00:00:00Z' })).id);
    const walked: string[] = [];
    let page = (await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?limit=2')).body;
    walked.push(...page.items.map((j) => j.id));
    while (page.next_cursor !== undefined) {
      page = (await call<JobPageWire>(api.current, 'GET', `/api/jobs/requests?limit=2&count=exact&cursor=${page.next_cursor}`)).body;
      expect(page).toMatchObject({ total: 5, limit: 2, offset: 0 });
      walked.push(...page.items.map((j) => j.id));
    }
    expect(walked).toEqual([...ids].reverse());
  });

  it('answers 400 naming the field for a cursor it did not make, or a cursor with an offset', async () => {
    await apply(api.current, LATER);
    await submit(api.current, { job_type: 'later', scheduled_at: '2099-01-01T00:00:00Z' });
    await submit(api.current, { job_type: 'later', scheduled_at: '2099-01-01T00:00:00Z' });
    const bad = expectProblem(await call(api.current, 'GET', '/api/jobs/requests?cursor=bm90LWEtY3Vyc29y'), 400);
    expect(JSON.stringify(bad)).toContain('cursor');
    const first = (await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?limit=1')).body;
    const both = expectProblem(await call(api.current, 'GET', `/api/jobs/requests?limit=1&offset=1&cursor=${first.next_cursor}`), 400);
    expect(JSON.stringify(both)).toContain('offset');
  });

  it('filters by submission time and by id prefix or job type on the server, counting only with count=exact', async () => {
    await apply(api.current, LATER);
    await apply(api.current, LATER.replace('job_type: later', 'job_type: other'));
    const first = await submit(api.current, { job_type: 'later', scheduled_at: '2099-01-01T00:00:00Z' });
    const between = new Date(Date.parse(first.submitted_at) + 1).toISOString();
    // The next submissions get a later millisecond than `between`, whatever the clock's resolution.
    while (Date.now() <= Date.parse(between)) await new Promise((resolve) => setImmediate(resolve));
    const second = await submit(api.current, { job_type: 'other', scheduled_at: '2099-01-01T00:00:00Z' });
    const ids = async (query: string) =>
      (await call<JobPageWire>(api.current, 'GET', `/api/jobs/requests?${query}`)).body.items.map((j) => j.id);
    expect(await ids(`submitted_before=${between}`)).toEqual([first.id]);
    expect(await ids(`submitted_after=${between}`)).toEqual([second.id]);
    expect(await ids('text=other')).toEqual([second.id]);
    expect(await ids(`text=${first.id.slice(0, 30).toUpperCase()}`)).toEqual([first.id]);
    const plain = (await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests')).body;
    expect(plain.total).toBeUndefined();
    expect((await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?text=later&count=exact')).body.total).toBe(1);
    const problem = expectProblem(
      await call(api.current, 'GET', '/api/jobs/requests?submitted_after=yesterday&submitted_before=2026-13-01&text=&count=all'),
      400,
    );
    expect(problem.errors?.map((e) => [e.in, e.field]).sort()).toEqual([
      ['query', 'count'],
      ['query', 'submitted_after'],
      ['query', 'submitted_before'],
      ['query', 'text'],
    ]);
  });
});

describe('POST /api/jobs/requests/bulk', () => {
  const api = apiPerTest();

  it('creates every request in one go, in order, or none when one of them is refused', async () => {
    await apply(api.current, LATER);
    const later = { job_type: 'later', scheduled_at: '2099-01-01T00:00:00Z' };
    const created = await call<{ items: { id: string; priority: number }[] }>(api.current, 'POST', '/api/jobs/requests/bulk', {
      requests: [later, { ...later, priority: 7 }, later],
    });
    expect(created.status).toBe(201);
    expect(created.body.items.map((j) => j.priority)).toEqual([50, 7, 50]);
    const listed = (await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests')).body;
    expect(listed.items.map((j) => j.id)).toEqual(created.body.items.map((j) => j.id).reverse());

    const refused = await call(api.current, 'POST', '/api/jobs/requests/bulk', { requests: [later, { job_type: 'nope' }] });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(JSON.stringify(refused.body)).toContain('requests[1]');
    expect((await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact')).body.total).toBe(3);
    const invalid = expectProblem(
      await call(api.current, 'POST', '/api/jobs/requests/bulk', { requests: [{ ...later, priority: 101 }] }),
      400,
    );
    expect(JSON.stringify(invalid)).toContain('priority');
  });
});
