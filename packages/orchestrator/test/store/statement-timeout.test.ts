import { createApi, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import pg from 'pg';
import { expect, it } from 'vitest';
import { type ApiUnderTest, call, expectProblem } from '../api/harness.js';
import { finished, testExecutor } from '../queen/helpers.js';

const gate = await postgres();

/**
 * A stuck statement cannot hang a queen: PostgreSQL cancels what runs past the store's statement
 * timeout. Here another client holds a job's row lock (a hung writer): the queen's cancel of that job
 * waits on it, fails with PostgreSQL's statement-timeout error once the limit passes, and meanwhile
 * the queen runs other jobs, and the API answers the same cancel with a 503 problem that says so;
 * once the lock is gone the cancel succeeds.
 */
gate.describe('the PostgreSQL statement timeout', () => {
  it('fails a statement stuck past it with a clear error, and the queen keeps going', async () => {
    const db = await gate.freshDatabase();
    const store = PostgresStore.open({ url: db.url, statementTimeoutMs: 500 });
    const queen = await Queen.open({ store, executors: [testExecutor()], ant: { capacity: 2 }, pollIntervalMs: 50 });
    const blocker = new pg.Client({ connectionString: db.url });
    const app = await createApi(queen, {});
    // The API harness is typed against the package's source, this file against its published types: one class.
    const api: ApiUnderTest = {
      url: await app.listen({ host: '127.0.0.1', port: 0 }),
      queen: queen as unknown as ApiUnderTest['queen'],
      app: app as unknown as ApiUnderTest['app'],
      close: async () => {},
    };
    try {
      await queen.start();
      await queen.applyDefinition('job_type: quick\ntasks:\n  - task_type: only\n    method: TEST\n    script: ["exit 0"]\n');
      // Due in an hour: no pass of the scheduler touches it meanwhile.
      const held = await queen.submit({ jobType: 'quick', scheduledAt: new Date(Date.now() + 3_600_000) });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [held.id]);

      const stuck = queen.cancel(held.id, 'stop it').then(
        () => undefined,
        (error: unknown) => error as Error & { code?: string },
      );
      const other = await queen.submit({ jobType: 'quick' });
      expect((await finished(queen, other.id)).state).toBe('COMPLETED');
      const error = await stuck;
      expect(error?.message).toBe('canceling statement due to statement timeout');
      expect(error?.code).toBe('57014');
      expect((await queen.getJob(held.id))?.state).toBe('PENDING');
      expect(expectProblem(await call(api, 'POST', `/api/jobs/requests/${held.id}/cancel`, { reason: 'stop it' }), 503)).toMatchObject({
        type: 'urn:myrmex:problem:store-timeout',
        title: 'The database took too long',
        detail: 'a database statement ran past the statement timeout and was cancelled; retry shortly',
      });

      await blocker.query('ROLLBACK');
      expect((await queen.cancel(held.id, 'stop it')).state).toBe('CANCELLED');
    } finally {
      await blocker.end().catch(() => undefined);
      await app.close();
      await queen.stop();
      await db.dispose();
    }
  }, 60_000);

  it('says which setting is wrong', () => {
    expect(() => PostgresStore.open({ url: 'postgres://u@127.0.0.1:5432/x', statementTimeoutMs: -1 })).toThrow(
      "statementTimeoutMs must be a whole number of milliseconds >= 0 (0: no limit), got '-1'",
    );
  });
});
