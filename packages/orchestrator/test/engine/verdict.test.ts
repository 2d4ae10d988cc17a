import { type AttemptResult, judgeAttempt, type RetryDelay } from '@myrmex/orchestrator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definition } from './definitions.js';

const delay: RetryDelay = (task, failed) => task.delayBetweenRetriesMs * failed;
const ok: AttemptResult = { exitCode: 0, succeeded: true };
const exit = (code: number): AttemptResult => ({ exitCode: code, succeeded: code === 0 });
const http = (status: number): AttemptResult => ({ exitCode: status, succeeded: status >= 200 && status < 300 });

function task(fields: Record<string, unknown>) {
  const def = definition([
    { task_type: 'main', ...fields },
    { task_type: 'next', needs: ['main'] },
    { task_type: 'other', needs: ['main'] },
    { task_type: 'onfail', needs: ['main'] },
  ]);
  return def.tasks[0]!;
}

describe('judgeAttempt', () => {
  it('completes on success and routes on_completed', () => {
    expect(judgeAttempt(task({}), ok, 1, delay)).toEqual({ kind: 'completed', reason: 'exit code 0' });
    expect(judgeAttempt(task({ on_completed: 'next' }), ok, 1, delay)).toMatchObject({ kind: 'completed', route: 'next' });
  });

  it('retries a failure with the computed delay while retries last, then fails and routes on_failed', () => {
    const t = task({ retry: 2, delay_between_retries: 3, on_failed: 'onfail' });
    expect(judgeAttempt(t, exit(1), 1, delay)).toEqual({ kind: 'retry', delayMs: 3000, reason: 'exit code 1; retry 1 of 2 in 3s' });
    expect(judgeAttempt(t, exit(1), 2, delay)).toMatchObject({ kind: 'retry', delayMs: 6000 });
    expect(judgeAttempt(t, exit(1), 3, delay)).toEqual({ kind: 'failed', route: 'onfail', fatal: false, reason: 'exit code 1' });
  });

  it('routes an allowed failure on on_completed unless it has on_failed', () => {
    expect(judgeAttempt(task({ allow_failure: true, on_completed: 'next' }), exit(2), 1, delay)).toMatchObject({
      kind: 'failed',
      route: 'next',
    });
    expect(judgeAttempt(task({ allow_failure: true, on_completed: 'next', on_failed: 'onfail' }), exit(2), 1, delay)).toMatchObject({
      kind: 'failed',
      route: 'onfail',
    });
  });

  it('looks up the exact exit code first, then the state key', () => {
    const t = task({ on_exit_code: { '3': 'other', FAILED: 'onfail', COMPLETED: 'next' }, retry: 5 });
    expect(judgeAttempt(t, exit(3), 1, delay)).toEqual({ kind: 'completed', route: 'other', reason: 'exit code 3: routed to other' });
    expect(judgeAttempt(t, exit(4), 1, delay)).toMatchObject({ kind: 'completed', route: 'onfail' });
    expect(judgeAttempt(t, ok, 1, delay)).toMatchObject({ kind: 'completed', route: 'next' });
  });

  it('reclassifies with COMPLETED and FAILED', () => {
    const t = task({ on_exit_code: { '1': 'COMPLETED', '0': 'FAILED' }, on_completed: 'next', retry: 1 });
    expect(judgeAttempt(t, exit(1), 1, delay)).toMatchObject({ kind: 'completed', route: 'next' });
    expect(judgeAttempt(t, ok, 1, delay)).toMatchObject({ kind: 'retry' });
    expect(judgeAttempt(t, ok, 2, delay)).toMatchObject({ kind: 'failed', fatal: false });
  });

  it('FATAL fails at once without retry or route', () => {
    const t = task({ on_exit_code: { '500': 'FATAL' }, retry: 5, on_failed: 'onfail' });
    expect(judgeAttempt(t, http(500), 1, delay)).toEqual({ kind: 'failed', fatal: true, reason: 'exit code 500: FATAL' });
  });

  it('EXECUTING polls: a retry per attempt, then a failure when retries run out', () => {
    const t = task({ on_exit_code: { '404': 'EXECUTING', '200': 'next' }, retry: 2, delay_between_retries: 1 });
    expect(judgeAttempt(t, http(404), 1, delay)).toEqual({
      kind: 'retry',
      delayMs: 1000,
      reason: 'exit code 404: still executing; retry 1 of 2 in 1s',
    });
    expect(judgeAttempt(t, http(404), 2, delay)).toMatchObject({ kind: 'retry' });
    expect(judgeAttempt(t, http(404), 3, delay)).toMatchObject({
      kind: 'failed',
      reason: 'exit code 404: still executing after 3 attempts',
    });
    expect(judgeAttempt(t, http(200), 2, delay)).toMatchObject({ kind: 'completed', route: 'next' });
  });

  it('control targets: RESTART_TASK retries at once and PAUSE_JOB after the delay while retries last, RESTART_JOB and ERR_<CODE> fail the job, WAIT_FOR_APPROVAL waits for a decision', () => {
    const t = task({
      on_exit_code: { '2': 'RESTART_TASK', '3': 'RESTART_JOB', '4': 'ERR_XYZ', '5': 'PAUSE_JOB', '6': 'WAIT_FOR_APPROVAL' },
      retry: 1,
      delay_between_retries: 5,
      on_failed: 'onfail',
    });
    expect(judgeAttempt(t, exit(2), 1, delay)).toEqual({ kind: 'retry', delayMs: 0, reason: 'exit code 2: RESTART_TASK; retry 1 of 1' });
    expect(judgeAttempt(t, exit(2), 2, delay)).toEqual({
      kind: 'failed',
      route: 'onfail',
      fatal: false,
      reason: 'exit code 2: RESTART_TASK with no retry left',
    });
    expect(judgeAttempt(t, exit(3), 1, delay)).toEqual({ kind: 'failed', fatal: true, reason: 'exit code 3: RESTART_JOB' });
    expect(judgeAttempt(t, exit(4), 1, delay)).toEqual({ kind: 'failed', fatal: true, reason: 'exit code 4: ERR_XYZ' });
    expect(judgeAttempt(t, exit(5), 1, delay)).toEqual({
      kind: 'retry',
      delayMs: 5000,
      reason: 'PAUSE_JOB after exit code 5; retry 1 of 1 in 5s',
      pauseJob: true,
    });
    expect(judgeAttempt(t, exit(5), 2, delay)).toMatchObject({
      kind: 'failed',
      route: 'onfail',
      reason: 'exit code 5: PAUSE_JOB with no retry left',
    });
    expect(judgeAttempt(t, exit(6), 1, delay)).toEqual({ kind: 'approval', reason: 'exit code 6: WAIT_FOR_APPROVAL' });
  });

  it('treats an attempt without an exit code (timeout, spawn error) as a failure looked up by FAILED', () => {
    const timedOut: AttemptResult = { succeeded: false, error: 'timed out after 100ms' };
    expect(judgeAttempt(task({}), timedOut, 1, delay)).toEqual({ kind: 'failed', fatal: false, reason: 'timed out after 100ms' });
    expect(judgeAttempt(task({ on_exit_code: { FAILED: 'FATAL' } }), timedOut, 1, delay)).toMatchObject({ kind: 'failed', fatal: true });
  });

  it('a task that always fails gets exactly `retry` retries (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 255 }), (retry, code) => {
        const t = task({ retry });
        let attempts = 0;
        for (;;) {
          attempts++;
          const verdict = judgeAttempt(t, exit(code), attempts, delay);
          if (verdict.kind !== 'retry') {
            expect(verdict.kind).toBe('failed');
            break;
          }
        }
        expect(attempts).toBe(retry + 1);
      }),
    );
  });
});
