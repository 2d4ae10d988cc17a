import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { Queen } from '../../src/queen/queen.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { JobStore } from '../../src/store/store.js';

const gate = await postgres();
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function sqlite() {
  dir = await mkdtemp(join(tmpdir(), 'myrmex-sched-reads-'));
  return { store: SqliteStore.open({ path: join(dir, 'q.db') }) as JobStore, dispose: async () => {} };
}

async function pgStore() {
  const db = await gate.freshDatabase();
  const store = PostgresStore.open({ url: db.url, poolSize: 4 });
  await store.opened();
  return { store: store as JobStore, dispose: () => db.dispose() };
}

function contract(open: () => Promise<{ store: JobStore; dispose: () => Promise<void> }>) {
  it('lists attempts ended since a time, newest first, with their job type and params', async () => {
    const { store, dispose } = await open();
    const queen = await Queen.open({ store, ant: { capacity: 1 }, pollIntervalMs: 50 });
    try {
      await queen.start();
      await queen.applyDefinition('job_type: quick\ntasks:\n  - task_type: run\n    script: ["true"]\n');
      const before = Date.now();
      const ids = [(await queen.submit({ jobType: 'quick', params: { tenant: 'acme' } })).id];
      ids.push((await queen.submit({ jobType: 'quick', params: { tenant: 'globex' } })).id);
      const deadline = Date.now() + 60_000;
      while ((await Promise.all(ids.map((id) => queen.getJob(id)))).some((j) => j?.state !== 'COMPLETED')) {
        if (Date.now() > deadline) throw new Error('jobs did not complete');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const reads = store.scheduling!();
      const ended = await reads.endedAttempts(before - 1_000, 10);
      expect(ended.map((a) => a.jobId).sort()).toEqual([...ids].sort());
      expect(ended[0]!.endedAt).toBeGreaterThanOrEqual(ended[1]!.endedAt);
      for (const attempt of ended) {
        expect(attempt).toMatchObject({ taskType: 'run', attempt: 1, jobType: 'quick', version: 1, state: 'COMPLETED' });
        expect(attempt.endedAt).toBeGreaterThanOrEqual(attempt.startedAt);
      }
      expect(ended.map((a) => a.params.tenant).sort()).toEqual(['acme', 'globex']);
      expect(await reads.endedAttempts(Date.now() + 60_000, 10)).toEqual([]);
      expect(await reads.endedAttempts(before - 1_000, 1)).toHaveLength(1);
    } finally {
      await queen.stop();
      await dispose();
    }
  });
}

describe('ended attempts for the scheduling framework on SQLite', () => contract(sqlite));
gate.describe('ended attempts for the scheduling framework on PostgreSQL', () => contract(pgStore));
