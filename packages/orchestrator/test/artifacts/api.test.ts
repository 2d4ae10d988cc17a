import { describe, expect, it } from 'vitest';
import { apiPerTest, apply, call, ended, expectProblem, submit, waitFor } from '../api/harness.js';

describe('artifacts over the REST API', () => {
  const api = apiPerTest();

  it('lists a job’s artifacts and downloads one by digest; unknown digests and jobs are 404 problems', async () => {
    await apply(
      api.current,
      `job_type: api-artifacts
tasks:
- task_type: make
  method: SHELL
  script: ['printf "hello, artifact" > "odd name.txt"']
  artifacts: { paths: ["odd name.txt"], expires_after: 1h }
`,
    );
    const { id } = await submit(api.current, { job_type: 'api-artifacts' });
    const job = await waitFor(api.current, id, ended);
    expect(job.state).toBe('COMPLETED');
    const listed = await call<{ items: Record<string, unknown>[] }>(api.current, 'GET', `/api/jobs/requests/${id}/artifacts`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    const item = listed.body.items[0]!;
    expect(item).toMatchObject({ task_type: 'make', attempt: 1, path: 'odd name.txt', size: 15 });
    // expires_after counts from collection on the ant, a moment before the queen records the row.
    const kept = Date.parse(String(item.expires_at)) - Date.parse(String(item.created_at));
    expect(kept).toBeGreaterThan(3_500_000);
    expect(kept).toBeLessThanOrEqual(3_600_000);

    const download = await fetch(`${api.current.url}/api/jobs/requests/${id}/artifacts/${String(item.digest)}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="odd name.txt"');
    expect(await download.text()).toBe('hello, artifact');

    expectProblem(await call(api.current, 'GET', `/api/jobs/requests/${id}/artifacts/sha256:${'a'.repeat(64)}`), 404);
    expectProblem(await call(api.current, 'GET', `/api/jobs/requests/${id}/artifacts/not-a-digest`), 400);
    expectProblem(await call(api.current, 'GET', '/api/jobs/requests/no-such-job/artifacts'), 404);
  });
});
