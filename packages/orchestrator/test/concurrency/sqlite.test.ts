import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@myrmex/orchestrator';
import { afterAll, describe, it } from 'vitest';
import { raceContract } from './race.js';

const dir = mkdtempSync(join(tmpdir(), 'myrmex-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describe('concurrency contract: SQLite, several connections to one file', () => {
  it('every join fires once, no attempt is claimed twice, max_concurrency holds, every job ends (property)', async () => {
    await raceContract(
      async (racers) => {
        const path = join(dir, `race-${++files}.db`);
        const stores = Array.from({ length: racers }, () => SqliteStore.open({ path }));
        for (const store of stores) await store.opened();
        return { stores, close: async () => void (await Promise.all(stores.map((s) => s.close()))) };
      },
      { numRuns: 8, jobs: 12 },
    );
  }, 120_000);
});
