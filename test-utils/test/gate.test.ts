import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openGate, postgres, redis, ServiceUnavailableError, withDatabase } from '../src/index.js';

const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));

describe('service gates', () => {
  it('fails under CI when the service does not answer', async () => {
    await expect(openGate({ service: 'PostgreSQL', url: 'postgres://u:secret@127.0.0.1:1/x', probe: refused, ci: true })).rejects.toThrow(
      ServiceUnavailableError,
    );
  });

  it('skips loudly, with the reason, outside CI', async () => {
    const warnings: string[] = [];
    const gate = await openGate({
      service: 'PostgreSQL',
      url: 'postgres://u:secret@127.0.0.1:1/x',
      probe: refused,
      ci: false,
      warn: (m) => warnings.push(m),
    });
    expect(gate.availability).toEqual({ available: false, reason: 'connect ECONNREFUSED 127.0.0.1:1' });
    expect(warnings[0]).toMatch(/SKIPPING tests that need PostgreSQL/);
    expect(warnings[0]).not.toContain('secret');
  });

  it('treats a probe that hangs as unavailable', async () => {
    const gate = await openGate({
      service: 'Redis',
      url: 'redis://x',
      probe: () => new Promise(() => {}),
      ci: false,
      timeoutMs: 50,
      warn: () => {},
    });
    expect(gate.availability).toEqual({ available: false, reason: 'no answer within 50 ms' });
  });

  it('keeps credentials and parameters when switching database', () => {
    expect(withDatabase('postgres://postgres:pw@127.0.0.1:5432/test?sslmode=disable', 'fresh')).toBe(
      'postgres://postgres:pw@127.0.0.1:5432/fresh?sslmode=disable',
    );
  });
});

const pg = await postgres();
pg.describe('a fresh PostgreSQL database', () => {
  it('is created empty, usable, and dropped on dispose', async () => {
    const { default: pgLib } = await import('pg');
    const db = await pg.freshDatabase();
    const client = new pgLib.Client({ connectionString: db.url });
    await client.connect();
    await client.query('create table t (x int)');
    expect((await client.query('select current_database() as d')).rows[0].d).toBe(db.name);
    await client.end();
    await db.dispose();
    const admin = new pgLib.Client({ connectionString: pg.url });
    await admin.connect();
    const left = await admin.query('select 1 from pg_database where datname = $1', [db.name]);
    await admin.end();
    expect(left.rowCount).toBe(0);
  });
});

const rd = await redis();
rd.describe('a fresh Redis prefix', () => {
  it('removes only its own keys on dispose', async () => {
    const { Redis } = await import('ioredis');
    const a = await rd.freshPrefix();
    const b = await rd.freshPrefix();
    const client = new Redis(rd.url);
    await client.set(`${a.prefix}k`, '1');
    await client.set(`${b.prefix}k`, '2');
    await a.dispose();
    expect(await client.get(`${a.prefix}k`)).toBeNull();
    expect(await client.get(`${b.prefix}k`)).toBe('2');
    await b.dispose();
    client.disconnect();
  });
});

// Each case starts a whole child vitest: on a loaded 2-core machine that alone can take over 30 s.
describe('a suite that needs PostgreSQL, run in a child vitest against a dead port', { timeout: 180_000 }, () => {
  const fixture =
    "import { it } from 'vitest';\nimport { postgres } from '@myrmex/test-utils';\nconst pg = await postgres();\npg.describe('needs pg', () => { it('works', () => {}); });\n";
  const run = async (ci: string) => {
    // Inside node_modules so the outer run never collects it, yet @myrmex/test-utils still resolves.
    mkdirSync(join(process.cwd(), 'node_modules', '.cache'), { recursive: true });
    const dir = mkdtempSync(join(process.cwd(), 'node_modules', '.cache', 'gate-'));
    writeFileSync(join(dir, 'needs-pg.test.ts'), fixture);
    writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'], exclude: [] } };\n");
    try {
      return await promisify(execFile)(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--root', dir, '--config', join(dir, 'vitest.config.mjs'), '--reporter', 'verbose'],
        {
          env: { ...process.env, CI: ci, MYRMEX_PG_URL: 'postgres://postgres@127.0.0.1:1/test' },
        },
      ).then(
        (r) => ({ code: 0, output: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: e.stdout + e.stderr }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('fails under CI=true', async () => {
    const result = await run('true');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/PostgreSQL is required under CI=true/);
  });

  it('skips and says why without CI', async () => {
    const result = await run('');
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/SKIPPING tests that need PostgreSQL/);
    expect(result.output).toMatch(/skipped: PostgreSQL unavailable/);
  });
});
