import { describe, expect, it } from 'vitest';
import { missingParams } from '../../src/definition/index.js';
import { apiPerTest, apply, call, expectProblem } from '../api/harness.js';

describe('required_params', () => {
  it('counts absent, null and empty values as missing, in the definition order', () => {
    const definition = { requiredParams: ['repo', 'branch', 'token'] };
    expect(missingParams(definition, { repo: 'x', branch: '', token: null })).toEqual(['branch', 'token']);
    expect(missingParams(definition, { repo: 'x', branch: 'main', token: 0 })).toEqual([]);
  });

  const api = apiPerTest();

  it('a submit without a required param is a 400 problem naming it; with them the job is created', async () => {
    await apply(
      api.current,
      `job_type: needs-params
required_params: [repo, branch]
tasks:
- task_type: t
  method: SHELL
  script: ['echo {{.repo}} {{.branch}}']
`,
    );
    const refused = expectProblem(
      await call(api.current, 'POST', '/api/jobs/requests', { job_type: 'needs-params', params: { repo: 'r' } }),
      400,
    );
    expect(refused.detail).toContain("requires the param(s) 'branch' (required_params)");
    expect(JSON.stringify(refused)).toContain('params.branch');
    const created = await call(api.current, 'POST', '/api/jobs/requests', {
      job_type: 'needs-params',
      params: { repo: 'r', branch: 'main' },
    });
    expect(created.status).toBe(201);
  });
});
