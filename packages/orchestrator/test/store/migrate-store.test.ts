import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CopyProgress,
  isTerminalJob,
  migrateStore,
  PostgresStore,
  planCopy,
  Queen,
  type SchemaShape,
  SqliteStore,
  StoreError,
} from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { diamondDefinition } from '../multiqueen/processes.js';
import { finished } from '../queen/helpers.js';

const gate = await postgres();

/** Every table's rows, as text, in key order: what must be equal on both sides. */
type Dump = Record<string, string[]>;
const BOOKKEEPING = ['myrmex_migration', 'myrmex_migration_lock'];
const cell = (value: unknown): string =>
  value === null || value === undefined ? 'NULL' : Buffer.isBuffer(value) ? `x${value.toString('hex')}` : String(value);

function dumpSqlite(file: string): Dump {
  const db = new BetterSqlite3(file, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    const dump: Dump = {};
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      if (BOOKKEEPING.includes(name)) continue;
      const columns = (db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string }[]).map((c) => c.name);
      const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      dump[name] = rows.map((row) => columns.map((c) => `${c}=${cell(row[c])}`).join('|')).sort();
    }
    return dump;
  } finally {
    db.close();
  }
}

async function dumpPostgres(url: string, tables: readonly string[]): Promise<Dump> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const dump: Dump = {};
    for (const name of tables) {
      const { rows, fields } = await client.query({ text: `SELECT * FROM "${name}"`, types: { getTypeParser: () => (v: string) => v } });
      dump[name] = rows.map((row) => fields.map((f) => `${f.name}=${cell(row[f.name])}`).join('|')).sort();
    }
    return dump;
  } finally {
    await client.end();
  }
}

describe('planning a store copy', () => {
  const shape = (description: string, tables: Partial<SchemaShape['tables'][number]>[]): SchemaShape => ({
    description,
    tables: tables.map((t) => ({ name: '', columns: [], key: [], references: [], identity: [], rows: 0, ...t })),
  });

  it('puts parents before children and leaves the migrator’s bookkeeping out', () => {
    const source = shape('src', [
      { name: 'tasks', columns: ['job_id'], references: ['jobs'] },
      { name: 'jobs', columns: ['seq', 'id'], key: ['seq'], references: ['definitions'] },
      { name: 'definitions', columns: ['job_type'] },
      { name: 'myrmex_migration', columns: ['name'] },
    ]);
    const target = shape('dst', [
      { name: 'tasks', columns: ['job_id'] },
      { name: 'jobs', columns: ['seq', 'id'], identity: ['seq'] },
      { name: 'definitions', columns: ['job_type'] },
      { name: 'myrmex_migration', columns: ['name'], rows: 12 },
      { name: 'orgs', columns: ['id'], rows: 1 },
    ]);
    const plan = planCopy(source, target);
    expect(plan.tables.map((t) => t.table)).toEqual(['definitions', 'jobs', 'tasks']);
    expect(plan.tables[1]).toMatchObject({ key: ['seq'], identity: ['seq'] });
  });

  it('replaces rows by the target’s primary key where it has one (the timeline: (job_id, seq) on PostgreSQL, seq on SQLite)', () => {
    const source = shape('src', [{ name: 'events', columns: ['seq', 'job_id', 'to_state'], key: ['seq'] }]);
    const keyed = shape('dst', [{ name: 'events', columns: ['seq', 'job_id', 'to_state'], key: ['job_id', 'seq'], identity: ['seq'] }]);
    expect(planCopy(source, keyed).tables[0]).toMatchObject({ key: ['job_id', 'seq'], identity: ['seq'] });
    // A target key on a column the source lacks cannot be named: the source's key stays.
    const other = shape('dst', [{ name: 'events', columns: ['seq', 'job_id', 'to_state', 'extra'], key: ['extra'] }]);
    expect(planCopy(source, other).tables[0]).toMatchObject({ key: ['seq'] });
  });

  it('refuses a target that holds data unless appending, a missing table or column, and a cycle, naming them', () => {
    const source = shape('src', [{ name: 'jobs', columns: ['id', 'extra'], rows: 3 }]);
    expect(() => planCopy(source, shape('dst', [{ name: 'jobs', columns: ['id', 'extra'], rows: 2 }]))).toThrow(
      /dst already holds data \(jobs: 2 rows\).*--force-append/,
    );
    expect(planCopy(source, shape('dst', [{ name: 'jobs', columns: ['id', 'extra'], rows: 2 }]), { append: true }).nonEmpty).toEqual([
      'jobs',
    ]);
    expect(() => planCopy(source, shape('dst', [{ name: 'jobs', columns: ['id'] }]))).toThrow(
      'table jobs: column extra of src does not exist in dst',
    );
    expect(() => planCopy(source, shape('dst', []))).toThrow('table jobs of src does not exist in dst');
    const cyclic = shape('src', [
      { name: 'a', references: ['b'] },
      { name: 'b', references: ['a'] },
    ]);
    expect(() => planCopy(cyclic, shape('dst', [{ name: 'a' }, { name: 'b' }]))).toThrow('form a cycle');
  });
});

gate.describe('migrate-store: a SQLite store moved to PostgreSQL', () => {
  it('moves every row of every table, refuses to copy twice, and a queen on PostgreSQL runs the moved jobs to their end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-migrate-'));
    const file = join(dir, 'store.db');
    const db = await gate.freshDatabase();
    try {
      // History on SQLite: finished diamonds with joins and logs, a failed job, security rows, and queued jobs.
      const runner = await Queen.open({ store: SqliteStore.open({ path: file }), ant: { capacity: 4 }, pollIntervalMs: 20 });
      await runner.start();
      await runner.applyDefinition(diamondDefinition('diamond', join(dir, 'effects')));
      await runner.applyDefinition('job_type: broken\ntasks:\n  - task_type: only\n    script: ["echo failing", "exit 3"]\n');
      const ran = [
        ...(await runner.submitMany(Array.from({ length: 4 }, () => ({ jobType: 'diamond' })))),
        await runner.submit({ jobType: 'broken' }),
      ];
      for (const job of ran) await finished(runner, job.id, 60_000);
      await runner.stop();
      const sqlite = SqliteStore.open({ path: file });
      const queued = await Queen.open({ store: sqlite, ant: { capacity: 0 } });
      const security = sqlite.security();
      await security.createOrg({ id: 'acme', name: 'Acme' }, new Date(1_000));
      await security.createUser({ id: 'ada', name: 'Ada' }, new Date(2_000));
      await security.setRole('acme', 'ada', 'admin');
      await security.createTeam({ id: 'ops', orgId: 'acme', name: 'Ops' });
      await security.addTeamMember('ops', 'ada');
      const waiting = await queued.submitMany(Array.from({ length: 3 }, () => ({ jobType: 'diamond' })));
      await queued.stop();

      const progress: CopyProgress[] = [];
      const moved = await migrateStore({ from: `sqlite:${file}`, to: db.url, onProgress: (p) => progress.push(p) });
      const source = dumpSqlite(file);
      const tables = Object.keys(source);
      expect(await dumpPostgres(db.url, tables)).toEqual(source);
      expect(moved.rows).toBe(Object.values(source).reduce((sum, rows) => sum + rows.length, 0));
      expect(moved.tables.map((t) => t.table).sort()).toEqual([...tables].sort());
      for (const name of [
        'jobs',
        'tasks',
        'attempts',
        'events',
        'logs',
        'definitions',
        'orgs',
        'users',
        'memberships',
        'teams',
        'team_members',
      ])
        expect(source[name]?.length, name).toBeGreaterThan(0);
      // Progress names each table, from nothing to all of it.
      expect(progress.find((p) => p.table === 'jobs' && p.copied === 0)).toBeDefined();
      const jobs = source.jobs!.length;
      expect(jobs).toBe(8);
      expect(progress.filter((p) => p.table === 'jobs').at(-1)).toMatchObject({ copied: jobs, rows: jobs });

      // Copying again is refused, naming what the target holds; --force-append rewrites the same rows.
      await expect(migrateStore({ from: file, to: db.url })).rejects.toThrow(
        new RegExp(`already holds data \\(.*jobs: ${jobs} rows.*--force-append`),
      );
      await migrateStore({ from: file, to: db.url, append: true });
      expect(await dumpPostgres(db.url, tables)).toEqual(source);

      // A row PostgreSQL refuses stops the copy at its table, naming the row; once fixed, --force-append finishes it.
      const second = await gate.freshDatabase();
      try {
        const raw = new BetterSqlite3(file);
        const bad = raw.prepare(`UPDATE tasks SET attempt = ? WHERE job_id = ? AND task_type = 'a'`);
        bad.run('abc', ran[1]!.id);
        await expect(migrateStore({ from: file, to: second.url })).rejects.toThrow(
          new RegExp(
            `table tasks, row \\(job_id=${ran[1]!.id}, task_type=a\\): invalid input syntax for type integer: "abc"; nothing of table tasks was written \\(tables copied before it: .*jobs`,
          ),
        );
        bad.run(1, ran[1]!.id);
        raw.close();
        await migrateStore({ from: file, to: second.url, append: true });
        expect(await dumpPostgres(second.url, tables)).toEqual(source);
      } finally {
        await second.dispose();
      }

      // A queen on PostgreSQL carries on: the queued jobs run to their end, and new jobs get new numbers.
      const queen = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 4 }, pollIntervalMs: 20 });
      try {
        await queen.start();
        const fresh = await queen.submit({ jobType: 'diamond' });
        for (const job of [...waiting, fresh]) expect((await finished(queen, job.id, 60_000)).state).toBe('COMPLETED');
        const history = await queen.getJob(ran[0]!.id);
        expect(history && isTerminalJob(history.state) && history.state).toBe('COMPLETED');
        expect((await queen.logs(ran[4]!.id)).map((l) => l.text)).toContain('failing');
      } finally {
        await queen.stop();
      }
    } finally {
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('says what is wrong with the stores it is given', async () => {
    await expect(migrateStore({ from: '/nonexistent/store.db', to: 'postgres://u@127.0.0.1:5432/x' })).rejects.toThrow(
      /from: cannot open the SQLite store \/nonexistent\/store.db/,
    );
    await expect(migrateStore({ from: 'postgres://u@h:5432/a', to: 'postgres://u@h:5432/b' })).rejects.toThrow(StoreError);
    await expect(migrateStore({ from: 'x.db', to: 'mysql://h/db' })).rejects.toThrow(/to: 'mysql:' stores are not supported/);
  });
});
