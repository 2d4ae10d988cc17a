import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, parseStoreUrl, type RunningServer, serve } from '../../src/index.js';

const gate = await postgres();
const quiet = () => createLogger({ write: () => {} });

describe('the store a queen serves from', () => {
  const servers: RunningServer[] = [];
  const cwd = process.cwd();
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    process.chdir(cwd);
  });

  it('reads paths, sqlite: and postgres:// values, and names what is accepted for anything else', () => {
    expect(parseStoreUrl('./a/b.db')).toEqual({ kind: 'sqlite', path: './a/b.db' });
    expect(parseStoreUrl('sqlite:/tmp/x.db')).toEqual({ kind: 'sqlite', path: '/tmp/x.db' });
    expect(parseStoreUrl(':memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStoreUrl('postgres://u@h:5432/d')).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/d' });
    expect(parseStoreUrl('postgresql://u@h/d')).toMatchObject({ kind: 'postgres' });
    expect(() => parseStoreUrl('postgres://x')).toThrow(
      /db: 'postgres:\/\/x' names no database; write postgres:\/\/user@host:5432\/database/,
    );
    expect(() => parseStoreUrl('postgres:x')).toThrow(/names no host/);
    expect(() => parseStoreUrl('mysql://root@h/test', 'MYRMEX_DB')).toThrow(
      /MYRMEX_DB: 'mysql:' stores are not supported; use a SQLite file path/,
    );
    expect(() => parseStoreUrl('  ')).toThrow(/db must be a SQLite file path or a postgres:\/\/ URL/);
  });

  it('refuses an unusable --db value with a clear error and creates no file or folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-db-value-'));
    process.chdir(dir);
    try {
      await expect(serve({ db: 'postgres://x', port: 0, handleSignals: false, logger: quiet() })).rejects.toThrow(/names no database/);
      await expect(serve({ db: 'redis://localhost:6379', port: 0, handleSignals: false, logger: quiet() })).rejects.toThrow(
        /'redis:' stores are not supported/,
      );
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(join(dir, 'postgres:'))).toBe(false);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which store it could not reach when PostgreSQL does not answer', async () => {
    await expect(serve({ db: 'postgres://postgres@127.0.0.1:1/none', port: 0, handleSignals: false, logger: quiet() })).rejects.toThrow(
      /could not open the store postgres:postgres:\/\/postgres@127\.0\.0\.1:1\/none/,
    );
  });

  gate.describe('on PostgreSQL', () => {
    it('two queens serve one database: a job submitted to one runs, and both report it', async () => {
      const db = await gate.freshDatabase();
      try {
        const [a, b] = await Promise.all([
          serve({ db: db.url, port: 0, handleSignals: false, logger: quiet(), capacity: 2 }),
          serve({ db: db.url, port: 0, handleSignals: false, logger: quiet(), capacity: 2 }),
        ]);
        servers.push(a, b);
        await a.queen.applyDefinition('job_type: hello\ntasks:\n  - task_type: hi\n    script: ["echo hi"]\n');
        const jobs = await Promise.all(Array.from({ length: 6 }, () => b.queen.submit({ jobType: 'hello' })));
        const deadline = Date.now() + 30_000;
        for (const job of jobs) {
          for (;;) {
            const seen = await a.queen.getJob(job.id);
            if (seen?.state === 'COMPLETED') break;
            if (Date.now() > deadline) throw new Error(`job ${job.id} is ${seen?.state}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
        const response = await fetch(`${b.url}/api/jobs/requests/${jobs[0]!.id}`);
        expect(response.status).toBe(200);
        expect(((await response.json()) as { state: string }).state).toBe('COMPLETED');
      } finally {
        for (const server of servers.splice(0)) await server.close();
        await db.dispose();
      }
    }, 60_000);
  });
});
