import { describe, expect, it } from 'vitest';
import { finished, source, startQueen, taskStates } from './helpers.js';

describe('Queen: DAG semantics end to end', () => {
  it('runs parallel branches at once and joins them; outputs flow to later tasks through templates', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source(
        'diamond',
        [
          { task_type: 'start', script: ['out SEED {{.base}}-{{.JobType}}'] },
          { task_type: 'left', needs: ['start'], script: ['sleep 150', 'out LEFT L-{{.SEED}}'] },
          { task_type: 'right', needs: ['start'], script: ['sleep 150', 'out RIGHT R-{{.SEED}}'] },
          { task_type: 'join', needs: ['left', 'right'], script: ['out ALL {{.LEFT}}+{{.RIGHT}}+{{.greeting}}'] },
        ],
        { job_variables: { greeting: 'hi' } },
      ),
    );
    const job = await queen.submit({ jobType: 'diamond', params: { base: 'p' } });
    const done = await finished(queen, job.id);
    expect(done.state).toBe('COMPLETED');
    const outputs = Object.fromEntries(done.tasks.map((t) => [t.taskType, t.outputs]));
    expect(outputs.join).toEqual({ ALL: 'L-p-diamond+R-p-diamond+hi' });
    const [left, right] = ['left', 'right'].map((t) => done.tasks.find((x) => x.taskType === t)!.attempts[0]!);
    // Both branches were running at the same time.
    expect(left!.startedAt.getTime()).toBeLessThan(right!.endedAt!.getTime());
    expect(right!.startedAt.getTime()).toBeLessThan(left!.endedAt!.getTime());
    const join = done.tasks.find((t) => t.taskType === 'join')!.attempts[0]!;
    expect(join.startedAt.getTime()).toBeGreaterThanOrEqual(Math.max(left!.endedAt!.getTime(), right!.endedAt!.getTime()));
  });

  it('renders templates held in job and task variables, using params and outputs of earlier tasks', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source(
        'vars',
        [
          { task_type: 'make', script: ['out ARTIFACT app-{{.Version}}.tgz'] },
          {
            task_type: 'ship',
            needs: ['make'],
            variables: { Target: '{{.Env}}/{{.Package}}' },
            script: ['out SHIPPED {{.Target}}'],
          },
        ],
        { job_variables: { Package: '{{.ARTIFACT}}', Env: 'stage-{{.Region}}' } },
      ),
    );
    const done = await finished(queen, (await queen.submit({ jobType: 'vars', params: { Version: '2.1', Region: 'eu' } })).id);
    expect(done.state).toBe('COMPLETED');
    expect(done.tasks.find((t) => t.taskType === 'ship')?.outputs).toEqual({ SHIPPED: 'stage-eu/app-2.1.tgz' });
  });

  it('runs a Formicary chain one task at a time along on_completed and skips routes not taken', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('chain', [
        { task_type: 'build', on_completed: 'test', on_failed: 'report' },
        { task_type: 'test', on_completed: 'deploy' },
        { task_type: 'deploy' },
        { task_type: 'report' },
      ]),
    );
    const done = await finished(queen, (await queen.submit({ jobType: 'chain' })).id);
    expect(done.state).toBe('COMPLETED');
    expect(taskStates(done)).toEqual({ build: 'COMPLETED', test: 'COMPLETED', deploy: 'COMPLETED', report: 'SKIPPED' });
    const starts = done.timeline.filter((e) => e.to === 'EXECUTING' && e.taskType).map((e) => e.taskType);
    expect(starts).toEqual(['build', 'test', 'deploy']);
  });

  it('routes by exit code and fails the job after an on_failed handler ran', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('route', [
        { task_type: 'check', script: ['exit 3'], on_exit_code: { '3': 'three', '4': 'four' } },
        { task_type: 'three', script: ['exit 1'], on_failed: 'handler' },
        { task_type: 'four' },
        { task_type: 'handler' },
      ]),
    );
    const done = await finished(queen, (await queen.submit({ jobType: 'route' })).id);
    expect(taskStates(done)).toEqual({ check: 'COMPLETED', three: 'FAILED', four: 'SKIPPED', handler: 'COMPLETED' });
    expect(done.tasks.find((t) => t.taskType === 'check')?.exitCode).toBe(3);
    expect(done.state).toBe('FAILED');
    expect(done.reason).toBe('task three failed: exit code 1');
  });

  it('retries with the delay, then succeeds; each attempt is kept with its exit code', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('flaky', [{ task_type: 'a', script: ['exits 1,2,0'], retry: 3, delay_between_retries: '100ms' }]));
    const done = await finished(queen, (await queen.submit({ jobType: 'flaky' })).id);
    expect(done.state).toBe('COMPLETED');
    const attempts = done.tasks[0]!.attempts;
    expect(attempts.map((a) => [a.attempt, a.state, a.exitCode])).toEqual([
      [1, 'FAILED', 1],
      [2, 'FAILED', 2],
      [3, 'COMPLETED', 0],
    ]);
    expect(attempts[1]!.startedAt.getTime() - attempts[0]!.endedAt!.getTime()).toBeGreaterThanOrEqual(90);
    expect(done.timeline.filter((e) => e.taskType === 'a' && e.from === 'EXECUTING' && e.to === 'READY').map((e) => e.reason)).toEqual([
      'exit code 1; retry 1 of 3 in 0.1s',
      'exit code 2; retry 2 of 3 in 0.1s',
    ]);
  });

  it('FATAL fails the job at once; pending work is skipped and always_run cleanup still runs', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('fatal', [
        { task_type: 'a', script: ['sleep 50', 'exit 9'], retry: 5, on_exit_code: { '9': 'FATAL' }, on_failed: 'handler' },
        { task_type: 'handler' },
        { task_type: 'b', script: ['sleep 300'] },
        { task_type: 'after', needs: ['b'] },
        { task_type: 'cleanup', always_run: true, script: ['log cleaning'] },
      ]),
    );
    const done = await finished(queen, (await queen.submit({ jobType: 'fatal' })).id);
    expect(taskStates(done)).toEqual({ a: 'FAILED', handler: 'SKIPPED', b: 'COMPLETED', after: 'SKIPPED', cleanup: 'COMPLETED' });
    expect(done.tasks[0]!.attempts).toHaveLength(1);
    expect(done).toMatchObject({ state: 'FAILED', reason: 'task a failed: exit code 9: FATAL' });
    expect((await queen.logs(done.id, { taskType: 'cleanup' })).map((l) => l.text)).toEqual(['cleaning']);
  });

  it('allow_failure: the task ends FAILED, dependents run and the job completes', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('allowed', [
        { task_type: 'lint', script: ['exit 1'], allow_failure: true },
        { task_type: 'build' },
        { task_type: 'ship', needs: ['lint', 'build'] },
      ]),
    );
    const done = await finished(queen, (await queen.submit({ jobType: 'allowed' })).id);
    expect(taskStates(done)).toEqual({ lint: 'FAILED', build: 'COMPLETED', ship: 'COMPLETED' });
    expect(done.state).toBe('COMPLETED');
  });

  it('fails an attempt whose template names an unknown variable, naming it', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('tmpl', [{ task_type: 'a', script: ['log {{.Missing}}'] }]));
    const done = await finished(queen, (await queen.submit({ jobType: 'tmpl' })).id);
    expect(done.state).toBe('FAILED');
    expect(done.tasks[0]!.reason).toMatch(/unknown template variable 'Missing'/);
    expect((await queen.logs(done.id)).map((l) => l.stream)).toEqual(['system']);
  });

  it('retries a failed job as a whole (soft) up to `retry` times', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source(
        'job-retry',
        [
          { task_type: 'ok', script: ['log once'] },
          { task_type: 'flaky', script: ['exits 1,0'], needs: ['ok'] },
        ],
        {
          retry: 2,
          delay_between_retries: '50ms',
        },
      ),
    );
    const done = await finished(queen, (await queen.submit({ jobType: 'job-retry' })).id);
    expect(done).toMatchObject({ state: 'COMPLETED', retry: 1 });
    expect(done.tasks.find((t) => t.taskType === 'ok')!.attempts).toHaveLength(1);
    expect(done.tasks.find((t) => t.taskType === 'flaky')!.attempts.map((a) => a.state)).toEqual(['FAILED', 'COMPLETED']);
    expect(done.timeline.find((e) => !e.taskType && e.to === 'PENDING' && e.from === 'EXECUTING')?.reason).toBe(
      'job retry 1 of 2 after: task flaky failed: exit code 1',
    );
  });
});
