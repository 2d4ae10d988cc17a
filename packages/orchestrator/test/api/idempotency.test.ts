import { describe, expect, it } from 'vitest';
import type { JobPageWire, JobSummaryWire } from '../../src/index.js';
import { idempotencyPathFor } from '../../src/server/idempotency.js';
import { apiPerTest, apply, call, expectProblem } from './harness.js';

const ONE = `job_type: once
tasks:
  - task_type: a
    script: ['echo once']
`;

const submitWithKey = (api: Parameters<typeof call>[0], body: unknown, key: string) =>
  call<JobSummaryWire>(api, 'POST', '/api/jobs/requests', body, 'application/json', { 'idempotency-key': key });

describe('idempotent job submission', () => {
  const api = apiPerTest();

  it('a retry with the same Idempotency-Key replays the first answer and creates no second job', async () => {
    await apply(api.current, ONE);
    const body = { job_type: 'once', params: { n: 1 } };
    const first = await submitWithKey(api.current, body, 'order-7');
    expect(first.status).toBe(201);
    const retry = await submitWithKey(api.current, body, 'order-7');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    const other = await submitWithKey(api.current, body, 'order-8');
    expect(other.body.id).not.toBe(first.body.id);
    expect((await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact')).body.total).toBe(2);
  });

  it('refuses the same key with a different body (422) and runs concurrent duplicates once', async () => {
    await apply(api.current, ONE);
    await submitWithKey(api.current, { job_type: 'once', params: { n: 1 } }, 'k-1');
    const mismatch = expectProblem(await submitWithKey(api.current, { job_type: 'once', params: { n: 2 } }, 'k-1'), 422);
    expect(mismatch.type).toMatch(/fingerprint-mismatch/);

    const storm = await Promise.all(Array.from({ length: 8 }, () => submitWithKey(api.current, { job_type: 'once' }, 'k-storm')));
    const created = new Set(storm.filter((reply) => reply.status === 201).map((reply) => reply.body.id));
    expect(created.size).toBe(1);
    // The others either replayed that answer or were told the first was still running.
    expect(storm.every((reply) => reply.status === 201 || reply.status === 409)).toBe(true);
    const page = await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact');
    expect(page.body.total).toBe(2);
  });

  it('without a key every POST submits, as before', async () => {
    await apply(api.current, ONE);
    await call(api.current, 'POST', '/api/jobs/requests', { job_type: 'once' });
    await call(api.current, 'POST', '/api/jobs/requests', { job_type: 'once' });
    expect((await call<JobPageWire>(api.current, 'GET', '/api/jobs/requests?count=exact')).body.total).toBe(2);
  });

  it('keeps the keys in a file next to the queen database', () => {
    expect(idempotencyPathFor('/var/lib/myrmex/myrmex.db')).toBe('/var/lib/myrmex/myrmex-idempotency.db');
    expect(idempotencyPathFor('state/queen')).toBe('state/queen-idempotency.db');
  });
});
