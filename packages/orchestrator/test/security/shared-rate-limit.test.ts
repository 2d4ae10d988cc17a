import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimitOptions } from '../../src/index.js';
import { openSecured, req, type SecuredApi } from './harness.js';

const gate = await postgres();

/** Run newest first: the queens close before their database goes. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A day-long window: the requests of a test never straddle two windows (they start at UTC midnight). */
const DAY = 24 * 3600 * 1000;

/** Two queens with their APIs on one database, the first one's bootstrap admin token usable on both. */
async function twoQueens(db: string, rateLimit: RateLimitOptions): Promise<{ queens: SecuredApi[]; admin: string }> {
  const first = await openSecured({ db, rateLimit });
  cleanups.push(() => first.close());
  const second = await openSecured({ db, rateLimit, bootstrap: false });
  cleanups.push(() => second.close());
  return { queens: [first, second], admin: first.auth.bootstrapToken as string };
}

function sharedLimits(name: string, database: () => Promise<string>) {
  describe(`rate limits counted in the database (${name})`, () => {
    it('hold across queens: requests racing through two queens get exactly the limit, per token and per organisation', async () => {
      const { queens, admin } = await twoQueens(await database(), { max: 5, orgMax: 1000, windowMs: DAY, shared: true });
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => req(queens[i % 2]!, 'GET', '/api/jobs/requests', admin)));
      expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
      const refused = answers.filter((a) => a.status === 429);
      expect(refused).toHaveLength(7);
      expect(refused[0]?.body.type).toBe('urn:myrmex:problem:rate-limited');

      // A second organisation-wide counter, shared too: two tokens of one organisation through two queens.
      const db = await database();
      const org = await twoQueens(db, { max: 1000, orgMax: 4, windowMs: DAY, shared: true });
      const other = (await req(org.queens[0]!, 'POST', '/api/tokens', org.admin, { name: 'two', scopes: ['read'] })).body.token;
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await req(org.queens[i % 2]!, 'GET', '/api/quota', i < 2 ? org.admin : other)).status);
      // The token creation was the organisation's first request of the window.
      expect(statuses).toEqual([200, 200, 200, 429]);
    });

    it('without `shared`, each queen counts only its own requests', async () => {
      const { queens, admin } = await twoQueens(await database(), { max: 3, windowMs: DAY });
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push((await req(queens[i % 2]!, 'GET', '/api/jobs/requests', admin)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    });
  });
}

sharedLimits('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-rate-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'q.db');
});

if (gate.availability.available) {
  sharedLimits('PostgreSQL', async () => {
    const db = await gate.freshDatabase();
    cleanups.push(() => db.dispose());
    return db.url;
  });
} else gate.describe('rate limits counted in the database (PostgreSQL)', () => it.skip('needs PostgreSQL'));
