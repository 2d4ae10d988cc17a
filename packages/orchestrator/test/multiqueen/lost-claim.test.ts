import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ANT_SOCKET_PATH,
  antSocketRoutes,
  createApi,
  type JobStore,
  PostgresStore,
  Queen,
  RemoteAnt,
  SqliteStore,
  staticAntTokens,
} from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { finished, testExecutor } from '../queen/helpers.js';

/**
 * The defect the database-away test found (issue 11): a claim whose COMMIT reached the database as
 * the link dropped. The queen saw an error, so no ant runs the attempt, yet it is EXECUTING under the
 * live queen's name. Leases are renewed only for attempts an ant of the queen holds, so this one
 * lapses and a reaper ends it with the task's retry policy; before, the queen renewed every attempt
 * it owned and the job never ended.
 */

const gate = await postgres();
const LEASE_MS = 600;

/**
 * The store, except that its first claim commits and then answers as a dropped connection does: a claim of
 * placed tasks (claimMany) or a pick and claim in one statement (claimNext, PostgreSQL), whichever comes first.
 */
function losingFirstAnswer(store: JobStore): JobStore {
  let lost = false;
  const lose = <T>(claimed: T, count: number): T => {
    if (lost || count === 0) return claimed;
    lost = true;
    throw new Error('Connection terminated unexpectedly');
  };
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'claimMany') {
        return async (...args: Parameters<JobStore['claimMany']>) => {
          const claimed = await target.claimMany(...args);
          return lose(claimed, claimed.length);
        };
      }
      if (key === 'claimNext' && target.claimNext) {
        return async (...args: Parameters<NonNullable<JobStore['claimNext']>>) => {
          const picked = await target.claimNext!(...args);
          return lose(picked, picked?.claimed.length ?? 0);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function describeOn(name: string, open: () => Promise<{ store: JobStore; dispose: () => Promise<void> }>): void {
  describe(`attempt leases on ${name}`, () => {
    it('an attempt claimed for the live queen that no ant runs lapses, is reaped and retried; the job ends', async () => {
      const { store, dispose } = await open();
      const queen = await Queen.open({
        store: losingFirstAnswer(store),
        executors: [testExecutor()],
        ant: { capacity: 2 },
        pollIntervalMs: 50,
        attemptLeaseMs: LEASE_MS,
      });
      try {
        await queen.start();
        await queen.applyDefinition(
          `job_type: lost\ntasks:\n  - task_type: only\n    method: TEST\n    retry: 1\n    script: ["exit 0"]\n`,
        );
        const job = await queen.submit({ jobType: 'lost' });
        const done = await finished(queen, job.id, 30_000);
        expect(done.state).toBe('COMPLETED');
        const [lostAttempt, retried] = done.tasks[0]!.attempts;
        expect(lostAttempt).toMatchObject({ attempt: 1, state: 'FAILED' });
        expect(lostAttempt!.reason).toMatch(/^not running: no ant of .* runs it/);
        // Ended by its lease lapsing (the live queen's renewals passed it over), never before.
        expect(lostAttempt!.endedAt!.getTime() - lostAttempt!.startedAt.getTime()).toBeGreaterThanOrEqual(LEASE_MS);
        expect(retried).toMatchObject({ attempt: 2, state: 'COMPLETED' });
      } finally {
        await queen.stop();
        await dispose();
      }
    }, 60_000);

    it('an attempt an ant runs keeps its lease for as long as it runs, many leases long', async () => {
      const { store, dispose } = await open();
      const queen = await Queen.open({ store, executors: [testExecutor()], ant: { capacity: 2 }, pollIntervalMs: 50, attemptLeaseMs: 300 });
      try {
        await queen.start();
        await queen.applyDefinition(`job_type: long\ntasks:\n  - task_type: only\n    method: TEST\n    script: ["sleep 2000"]\n`);
        const job = await queen.submit({ jobType: 'long' });
        const done = await finished(queen, job.id, 30_000);
        expect(done.state).toBe('COMPLETED');
        expect(done.tasks[0]!.attempts).toMatchObject([{ attempt: 1, state: 'COMPLETED' }]);
      } finally {
        await queen.stop();
        await dispose();
      }
    }, 60_000);
  });
}

describe('attempt leases of a remote ant', () => {
  it('an attempt claimed for a connected remote ant that the ant never got lapses, is reaped and retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-lost-claim-remote-'));
    const queen = await Queen.open({
      store: losingFirstAnswer(SqliteStore.open({ path: join(dir, 'db.sqlite') })),
      // The method is known here so the definition validates; no embedded ant runs it.
      executors: [testExecutor()],
      ant: { capacity: 0 },
      pollIntervalMs: 50,
      attemptLeaseMs: LEASE_MS,
    });
    const token = 'lost-claim-remote-ant-token-0123456789';
    const app = await createApi(queen, {
      extend: (scope) =>
        antSocketRoutes(scope, { hub: queen.remoteAnts, authenticateAnt: staticAntTokens(token), drain: (id) => queen.drainAnt(id) }),
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const ant = new RemoteAnt({
      servers: [url.replace(/^http/, 'ws') + ANT_SOCKET_PATH],
      token,
      id: 'far',
      capacity: 1,
      executors: [testExecutor()],
      stateDir: join(dir, 'ant'),
    });
    try {
      await queen.start();
      await ant.start();
      await queen.applyDefinition(`job_type: lost\ntasks:\n  - task_type: only\n    method: TEST\n    retry: 1\n    script: ["exit 0"]\n`);
      const job = await queen.submit({ jobType: 'lost' });
      const done = await finished(queen, job.id, 30_000);
      expect(done.state).toBe('COMPLETED');
      const [lostAttempt, retried] = done.tasks[0]!.attempts;
      // The queen renewed the ant's leases all along, but only of the attempts the ant holds.
      expect(lostAttempt).toMatchObject({ attempt: 1, state: 'FAILED', antId: 'far' });
      expect(lostAttempt!.reason).toMatch(/^not running: ant far is connected but does not run it/);
      expect(lostAttempt!.endedAt!.getTime() - lostAttempt!.startedAt.getTime()).toBeGreaterThanOrEqual(LEASE_MS);
      expect(retried).toMatchObject({ attempt: 2, state: 'COMPLETED', antId: 'far' });
    } finally {
      await ant.stop();
      await app.close();
      await queen.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describeOn('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-lost-claim-'));
  return { store: SqliteStore.open({ path: join(dir, 'db.sqlite') }), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});

gate.describe('PostgreSQL', () => {
  describeOn('PostgreSQL', async () => {
    const db = await gate.freshDatabase();
    return { store: PostgresStore.open({ url: db.url }), dispose: () => db.dispose() };
  });
});
