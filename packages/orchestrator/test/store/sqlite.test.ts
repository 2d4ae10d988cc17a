import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATION_NAMES, SqliteStore } from '@myrmex/orchestrator';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'myrmex-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describeStoreContract('SQLite file (WAL)', async () => SqliteStore.open({ path: join(dir, `contract-${++files}.db`) }));
describeStoreContract('SQLite :memory:', async () => SqliteStore.open({ path: ':memory:' }));

describe('SqliteStore', () => {
  it('runs migrations once, records them, and uses WAL with a busy timeout', async () => {
    const path = join(dir, 'nested', 'deeper', 'm.db');
    const store = SqliteStore.open({ path, busyTimeoutMs: 1234 });
    await store.opened();
    expect(store.description).toBe(`sqlite:${path}`);
    await store.close();
    const reopened = SqliteStore.open({ path });
    await reopened.close();
    const db = new BetterSqlite3(path);
    expect(db.prepare('SELECT name FROM myrmex_migration ORDER BY name').all()).toEqual(MIGRATION_NAMES.map((name) => ({ name })));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('group commit: a transaction that fails rolls back alone, grouped or not, and the store writes on', async () => {
    const store = SqliteStore.open({ path: join(dir, 'grouped.db') });
    const job = (id: string) => ({
      id,
      jobType: 't',
      version: 1,
      priority: 5,
      params: {},
      submittedAt: new Date(1),
      scheduledAt: new Date(1),
      taskTypes: ['x'],
    });
    await store.createJob(job('taken'));
    // Alone: the duplicate id fails its transaction, which leaves nothing behind.
    await expect(store.createJob(job('taken'))).rejects.toThrow(/UNIQUE/);
    // Queued together, so they commit as one group: the failing one is rolled back alone.
    const outcomes = await Promise.allSettled(['a', 'taken', 'b'].map((id) => store.createJob(job(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await store.createJob(job('after'));
    const ids = (await store.listJobs({ limit: 10 })).items.map((j) => j.id).sort();
    expect(ids).toEqual(['a', 'after', 'b', 'taken']);
    expect(await store.timeline('taken')).toHaveLength(1);
    await store.close();
  });

  it('copies the WAL back from a background connection: the log file is reused, not grown, and the last close removes it', async () => {
    const path = join(dir, 'checkpoints.db');
    const store = SqliteStore.open({ path });
    let n = 0;
    // A 4 KB parameter a job: each commit appends a few pages to the log.
    const write = () =>
      store.createJob({
        id: `c${++n}`,
        jobType: 't',
        version: 1,
        priority: 5,
        params: { pad: 'x'.repeat(4096) },
        submittedAt: new Date(n),
        scheduledAt: new Date(n),
        taskTypes: ['x'],
      });
    // Commits ask for checkpoints (at most one each 50 ms): write until several have copied frames back.
    await expect
      .poll(
        async () => {
          for (let i = 0; i < 20; i++) await write();
          return store.walCheckpoints()?.checkpoints ?? 0;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(3);
    const copied = store.walCheckpoints()!.frames;
    // More frames went through the log than it could hold at its size: it was rewound after checkpoints.
    expect(copied * 4096).toBeGreaterThan(statSync(`${path}-wal`).size);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = SqliteStore.open({ path });
    expect((await reopened.listJobs({ limit: 1, count: 'exact' })).total).toBe(n);
    await reopened.close();
  });

  it('a process with nothing else to do still waits for close(): the checkpoint thread holds it open until it has gone', () => {
    const path = join(dir, 'closing-process.db');
    const script = `import('${new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url).pathname}').then(async ({ SqliteStore }) => {
      const store = SqliteStore.open({ path: ${JSON.stringify(path)} });
      for (let n = 0; n < 50; n++)
        await store.createJob({ id: 'p' + n, jobType: 't', version: 1, priority: 5, params: {}, submittedAt: new Date(n), scheduledAt: new Date(n), taskTypes: ['x'] });
      await store.close();
      console.log('closed');
    });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    // Exit code 13 is Node's "the event loop emptied while a top-level await was pending".
    expect({ status: child.status, stdout: child.stdout.trim() }).toEqual({ status: 0, stdout: 'closed' });
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('keeps everything across reopening the file', async () => {
    const path = join(dir, 'durable.db');
    const store = SqliteStore.open({ path });
    await store.createJob({
      id: 'j1',
      jobType: 't',
      version: 1,
      priority: 5,
      params: { a: [1, 2] },
      submittedAt: new Date(1),
      scheduledAt: new Date(1),
      taskTypes: ['x'],
    });
    await store.close();
    const again = SqliteStore.open({ path });
    expect(await again.job('j1')).toMatchObject({ id: 'j1', params: { a: [1, 2] }, state: 'PENDING' });
    expect(await again.timeline('j1')).toHaveLength(1);
    await again.close();
  });

  it('refuses a database whose schema is newer than it knows', async () => {
    const path = join(dir, 'future.db');
    const first = SqliteStore.open({ path });
    await first.opened();
    await first.close();
    const db = new BetterSqlite3(path);
    db.prepare('INSERT INTO myrmex_migration (name, timestamp) VALUES (?, ?)').run('9999-from-the-future', new Date().toISOString());
    db.close();
    const future = SqliteStore.open({ path });
    await expect(future.opened()).rejects.toThrow(/schema version 9999-from-the-future is newer/);
    await future.close();
  });
});
