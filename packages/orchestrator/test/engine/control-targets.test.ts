import { describe, expect, it } from 'vitest';
import { PausedJobs } from '../../src/queen/pauses.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { finished, source, startQueen, taskStates, tempDb, until } from '../queen/helpers.js';

describe('control targets in a running job', () => {
  it('RESTART_JOB restarts the job through its own retry; RESTART_TASK runs the task again at once; ERR_<CODE> fails the job', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source(
        'restarts',
        [
          { task_type: 'first', script: ['log first'], on_completed: 'flaky' },
          // Attempt numbers go on across the job's runs: the first attempt asks for a restart, the second succeeds.
          { task_type: 'flaky', script: ['exits 3,0'], on_exit_code: { '3': 'RESTART_JOB' } },
        ],
        { retry: 1 },
      ),
    );
    const restarted = await finished(queen, (await queen.submit({ jobType: 'restarts' })).id);
    expect(restarted.state).toBe('COMPLETED');
    expect(restarted.retry).toBe(1);
    expect(restarted.tasks.find((t) => t.taskType === 'flaky')!.attempts.map((a) => [a.state, a.reason])).toEqual([
      ['FAILED', 'exit code 3: RESTART_JOB'],
      ['COMPLETED', 'exit code 0'],
    ]);
    // The first task completed in the first run and is kept by the soft restart.
    expect(restarted.tasks.find((t) => t.taskType === 'first')!.attempts).toHaveLength(1);

    await queen.applyDefinition(
      source('task-restart', [
        { task_type: 't', retry: 2, script: ['exits 2,2,0'], on_exit_code: { '2': 'RESTART_TASK', '9': 'ERR_NINE' } },
      ]),
    );
    const again = await finished(queen, (await queen.submit({ jobType: 'task-restart' })).id);
    expect([again.state, again.tasks[0]!.attempts.length]).toEqual(['COMPLETED', 3]);

    await queen.applyDefinition(
      source('err-code', [
        { task_type: 't', retry: 3, script: ['exit 9'], on_exit_code: { '9': 'ERR_NINE' }, on_completed: 'after' },
        { task_type: 'after', script: ['log after'] },
      ]),
    );
    const failed = await finished(queen, (await queen.submit({ jobType: 'err-code' })).id);
    expect(failed.state).toBe('FAILED');
    expect(failed.reason).toBe('task t failed: exit code 9: ERR_NINE');
    expect(taskStates(failed)).toEqual({ t: 'FAILED', after: 'SKIPPED' });
    expect(failed.tasks[0]!.attempts).toHaveLength(1);
  });

  it('PAUSE_JOB pauses the job for the retry delay, then a queen resumes it and the task runs again', async () => {
    const dbPath = tempDb();
    const queen = await startQueen({ dbPath });
    await queen.applyDefinition(
      source('pausing', [
        {
          task_type: 'wait',
          retry: 2,
          delay_between_retries: '300ms',
          script: ['exits 5,0'],
          on_exit_code: { '5': 'PAUSE_JOB' },
          on_completed: 'next',
        },
        { task_type: 'next', script: ['log next'] },
      ]),
    );
    const { id } = await queen.submit({ jobType: 'pausing' });
    const paused = await until(async () => {
      const job = await queen.getJob(id);
      return job?.state === 'PAUSED' ? job : undefined;
    });
    expect(paused.reason).toMatch(/^paused by wait: PAUSE_JOB after exit code 5; retry 1 of 2 in 0\.3s$/);
    const done = await finished(queen, id);
    expect(done.state).toBe('COMPLETED');
    expect(taskStates(done)).toEqual({ wait: 'COMPLETED', next: 'COMPLETED' });
    const jobStates = done.timeline.filter((e) => e.taskType === undefined).map((e) => e.to);
    expect(jobStates).toEqual(expect.arrayContaining(['PAUSED', 'EXECUTING', 'COMPLETED']));
    expect(jobStates.indexOf('PAUSED')).toBeLessThan(jobStates.lastIndexOf('EXECUTING'));

    // A job paused by hand is left alone by the sweep.
    await queen.applyDefinition(
      source('held', [
        { task_type: 'a', script: ['sleep 200'], on_completed: 'b' },
        { task_type: 'b', script: ['log b'] },
      ]),
    );
    const held = await queen.submit({ jobType: 'held' });
    await until(async () => ((await queen.getJob(held.id))?.state === 'EXECUTING' ? true : undefined));
    await queen.pause(held.id);
    await until(async () =>
      (await queen.getJob(held.id))?.tasks.find((t) => t.taskType === 'a')?.state === 'COMPLETED' ? true : undefined,
    );
    const store = SqliteStore.open({ path: dbPath });
    try {
      const sweeper = new PausedJobs(store, async () => {
        throw new Error('must not resume a job paused by hand');
      });
      expect(await sweeper.sweep(Date.now() + 60_000)).toEqual([]);
      expect((await queen.getJob(held.id))?.state).toBe('PAUSED');
    } finally {
      await store.close();
    }
  });

  it('WAIT_FOR_APPROVAL holds the task for a decision: approved it follows on_completed, rejected on_failed', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      source('gated', [
        {
          task_type: 'check',
          script: ['log checking', 'exit 3'],
          on_exit_code: { '3': 'WAIT_FOR_APPROVAL' },
          on_completed: 'ship',
          on_failed: 'undo',
        },
        { task_type: 'ship', script: ['log ship'] },
        { task_type: 'undo', script: ['log undo'] },
      ]),
    );
    for (const decision of ['APPROVED', 'REJECTED'] as const) {
      const { id } = await queen.submit({ jobType: 'gated' });
      await until(async () => (await queen.approvals(id)).find((a) => a.taskType === 'check')?.waiting);
      const status = await queen.decideTask(id, 'check', { approver: 'ann', decision, roles: [], comment: 'looked at it' });
      expect(status).toMatchObject({ taskType: 'check', waiting: false, decision });
      const job = await finished(queen, id);
      const check = job.tasks.find((t) => t.taskType === 'check')!;
      // The attempt ran once and ended well; the decision ended the task.
      expect(check.attempts.map((a) => [a.state, a.reason])).toEqual([['COMPLETED', 'exit code 3: WAIT_FOR_APPROVAL']]);
      if (decision === 'APPROVED') {
        expect([job.state, taskStates(job)]).toEqual(['COMPLETED', { check: 'COMPLETED', ship: 'COMPLETED', undo: 'SKIPPED' }]);
      } else {
        expect([job.state, taskStates(job)]).toEqual(['FAILED', { check: 'FAILED', ship: 'SKIPPED', undo: 'COMPLETED' }]);
      }
      expect(check.reason).toMatch(new RegExp(`^${decision} by ann`));
    }
  });
});
