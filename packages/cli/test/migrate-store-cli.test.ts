import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore, Queen, SqliteStore } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

const gate = await postgres();

/** `myrmex migrate-store` in-process: a real SQLite file moved into a PostgreSQL database made for the test. */
gate.describe('myrmex migrate-store', () => {
  it('moves a SQLite store to PostgreSQL with progress on stderr, refuses a second copy, and says what a flag lacks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-cli-migrate-'));
    const file = join(dir, 'store.db');
    const db = await gate.freshDatabase();
    try {
      const queen = await Queen.open({ store: SqliteStore.open({ path: file }), ant: { capacity: 0 } });
      await queen.start();
      await queen.applyDefinition('job_type: moved\ntasks:\n  - task_type: only\n    script: [echo hi]\n');
      const job = await queen.submit({ jobType: 'moved' });
      await queen.stop();

      const ok = capture();
      expect(await main(['migrate-store', '--from', `sqlite:${file}`, '--to', db.url], ok.io)).toBe(0);
      expect(ok.out).toEqual([expect.stringMatching(/^moved \d+ rows in \d+ tables$/)]);
      expect(ok.err).toContainEqual(expect.stringMatching(/^\[\d+\/\d+\] jobs: 1\/1 rows$/));

      const again = capture();
      expect(await main(['migrate-store', '--from', file, '--to', db.url], again.io)).toBe(1);
      expect(again.err.at(-1)).toMatch(/^myrmex: the PostgreSQL database .* already holds data \(.*jobs: 1 rows.*--force-append/);

      const missing = capture();
      expect(await main(['migrate-store', '--from', file], missing.io)).toBe(2);
      expect(missing.err).toEqual(['myrmex: migrate-store needs --to postgres://user@host:5432/database']);

      const target = PostgresStore.open({ url: db.url });
      try {
        expect((await target.job(job.id))?.state).toBeDefined();
      } finally {
        await target.close();
      }
    } finally {
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
