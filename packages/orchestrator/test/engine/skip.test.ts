import { describe, expect, it } from 'vitest';
import { SKIPPED_BY_CONDITION } from '../../src/engine/plan.js';
import { jobSkipReason } from '../../src/engine/skip.js';
import { finished, source, startQueen, taskStates } from '../queen/helpers.js';
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

describe('task skip_if and except', () => {
  const flow = source('conditional', [
    { task_type: 'a', script: ['out Stage built'], on_completed: 'integ' },
    { task_type: 'integ', except: '{{if ne .Branch "main"}} true {{end}}', script: ['log integ on {{.Branch}}'], on_completed: 'deploy' },
    { task_type: 'deploy', skip_if: '{{if eq .Stage "skip-deploy"}} true {{end}}', script: ['log deploy'] },
    { task_type: 'report', needs: ['integ'], script: ['log report'] },
  ]);

  it('a task whose condition holds ends SKIPPED and the flow goes on as if it completed: its route is taken, its needs are met', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(flow);
    const feature = await finished(queen, (await queen.submit({ jobType: 'conditional', params: { Branch: 'feature' } })).id);
    expect(feature.state).toBe('COMPLETED');
    expect(taskStates(feature)).toEqual({ a: 'COMPLETED', integ: 'SKIPPED', deploy: 'COMPLETED', report: 'COMPLETED' });
    const integ = feature.tasks.find((t) => t.taskType === 'integ')!;
    expect([integ.reason, integ.attempts.length]).toEqual([SKIPPED_BY_CONDITION, 0]);

    const main = await finished(queen, (await queen.submit({ jobType: 'conditional', params: { Branch: 'main' } })).id);
    expect(taskStates(main)).toEqual({ a: 'COMPLETED', integ: 'COMPLETED', deploy: 'COMPLETED', report: 'COMPLETED' });
    // Outputs of finished tasks are in the condition's scope: a's output Stage decides deploy.
    const skipDeploy = await finished(
      queen,
      (await queen.submit({ jobType: 'conditional', params: { Branch: 'main', Stage: 'skip-deploy' } })).id,
    );
    // A request param comes before an output, as in scripts.
    expect(taskStates(skipDeploy).deploy).toBe('SKIPPED');
  });

  it('a condition that cannot be evaluated fails the task, naming skip_if', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('bad-condition', [{ task_type: 'a', skip_if: '{{if lt .N 3}} true {{end}}', script: ['log a'] }]));
    const job = await finished(queen, (await queen.submit({ jobType: 'bad-condition', params: { N: 'x' } })).id);
    expect(job.state).toBe('FAILED');
    expect(job.tasks[0]).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/^skip_if could not be evaluated: /) });
  });

  it('a job whose every task is passed over ends at admission', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('all-skipped', [{ task_type: 'a', skip_if: true, script: ['log a'] }]));
    const job = await finished(queen, (await queen.submit({ jobType: 'all-skipped' })).id);
    expect([job.state, taskStates(job)]).toEqual(['COMPLETED', { a: 'SKIPPED' }]);
  });
});
