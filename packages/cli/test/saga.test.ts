import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteDriver, TransactionManager } from '@myrmex/tx';
import { type SagaDefinition, SagaRunner, SagaStore } from '@myrmex/tx/saga';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

async function run(...argv: string[]) {
  const { io, out, err } = capture();
  const code = await main(['saga', ...argv], io, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('myrmex saga', () => {
  let dir: string;
  let file: string;
  let tm: TransactionManager<unknown, unknown>;
  let store: SagaStore;
  let shipping = false;
  const saga: SagaDefinition = {
    name: 'order',
    steps: [
      { name: 'reserve', execute: () => 'r1', compensate: () => undefined },
      {
        name: 'ship',
        retry: { attempts: 2, backoffMs: 1 },
        execute: () => {
          if (!shipping) throw new Error('carrier down');
          return 's1';
        },
      },
    ],
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-saga-cli-'));
    file = join(dir, 'sagas.db');
    tm = new TransactionManager(sqliteDriver({ open: () => new Database(file) })) as TransactionManager<unknown, unknown>;
    store = new SagaStore(tm);
    await store.ensureSchema();
  });
  afterAll(async () => {
    await tm.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('list, show with its timeline, compensate a failed saga; retry another to completion', async () => {
    const runner = new SagaRunner({ store, sagas: [saga] });
    expect((await runner.start('order', { id: 'o-1' })).status).toBe('compensated');
    // With a pivot nothing would compensate; here ship simply fails twice and reserve is undone.
    const listed = await run('list', '--db', file);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/o-1\s+order\s+compensated\s+1\/2/);
    const shown = await run('show', 'o-1', '--db', file);
    expect(shown.out).toContain('saga o-1 (order): compensated');
    expect(shown.out).toMatch(/ship\s+failed\s+2/);
    expect(shown.out).toMatch(/step-error\s+ship\s+\{"attempt":1,"error":"Error: carrier down"\}/);
    expect(shown.out).toMatch(/step-compensated\s+reserve/);

    const pivoted = new SagaRunner({
      store,
      sagas: [{ ...saga, name: 'pivoted', steps: [{ ...saga.steps[0]!, pivot: true } as never, saga.steps[1]!] }],
    });
    expect((await pivoted.start('pivoted', { id: 'p-1' })).status).toBe('failed');
    const refused = await run('compensate', 'p-1', '--db', file);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/past its pivot step; pass force/);
    shipping = true;
    expect((await run('retry', 'p-1', '--db', file)).out).toMatch(/running again/);
    expect((await pivoted.recover()).map((o) => o.status)).toEqual(['completed']);
    const json = JSON.parse((await run('list', '--db', file, '--status', 'completed', '--json')).out) as Array<{ id: string }>;
    expect(json.map((s) => s.id)).toEqual(['p-1']);
  });

  it('bad input names the flag; unknown ids and missing stores say so', async () => {
    expect((await run('list', '--db', file, '--status', 'done')).err).toMatch(/--status must be one of/);
    expect((await run('list')).err).toMatch(/--db is required/);
    expect((await run('list', '--db', join(dir, 'nope.db'))).err).toMatch(/no such SQLite file/);
    const missing = await run('show', 'nobody', '--db', file);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no saga nobody/);
  });
});
