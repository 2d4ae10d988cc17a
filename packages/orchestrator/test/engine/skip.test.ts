import { describe, expect, it } from 'vitest';
import { jobSkipReason } from '../../src/engine/skip.js';
import { definition } from './definitions.js';

const job = (params: Record<string, unknown> = {}) => ({ id: 'j1', jobType: 'test-job', retry: 0, params });
const tasks = [{ task_type: 't', script: ['x'] }];

describe('job skip_if', () => {
  it("renders with job variables under the request's params, and skips on true", () => {
    const charlie = definition(tasks, { skip_if: '{{if eq .Target "charlie"}} true {{end}}', job_variables: { Target: 'charlie' } });
    expect(jobSkipReason(charlie, job())).toBe('skipped: skip_if is true');
    expect(jobSkipReason(charlie, job({ Target: 'bob' }))).toBeUndefined();
    expect(jobSkipReason(definition(tasks, { skip_if: true }), job())).toBe('skipped: skip_if is true');
    expect(jobSkipReason(definition(tasks, { skip_if: ' TRUE ' }), job())).toBe('skipped: skip_if is true');
    expect(jobSkipReason(definition(tasks, { skip_if: false }), job())).toBeUndefined();
    expect(jobSkipReason(definition(tasks), job())).toBeUndefined();
  });

  it('a condition on a value nobody gave is false; built-ins are there; a failing template throws', () => {
    const missing = definition(tasks, { skip_if: '{{if eq .Nobody "x"}} true {{end}}' });
    expect(jobSkipReason(missing, job())).toBeUndefined();
    expect(jobSkipReason(definition(tasks, { skip_if: '{{if eq .JobType "test-job"}} true {{end}}' }), job())).toBe(
      'skipped: skip_if is true',
    );
    expect(() => jobSkipReason(definition(tasks, { skip_if: '{{if lt .Target 3}} true {{end}}' }), job({ Target: 'x' }))).toThrow();
  });
});
