import { describe, expect, it } from 'vitest';
import { finished, source, startQueen, taskStates } from '../queen/helpers.js';

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
});
