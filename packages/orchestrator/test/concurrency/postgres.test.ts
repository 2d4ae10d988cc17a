import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { it } from 'vitest';
import { raceContract } from './race.js';

const gate = await postgres();
const here = dirname(fileURLToPath(import.meta.url));

/** A racer in a child process on `url`; resolves with its claims. */
function childRacer(url: string, name: string, delays: readonly number[]): Promise<readonly string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(here, 'racer-process.ts'), url, name, JSON.stringify(delays)],
      { cwd: join(here, '..', '..'), timeout: 90_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${name} failed: ${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as string[]),
    );
  });
}

/** `racers` stores on one fresh database, all migrating at once (the Migrator's advisory lock makes it happen once). */
async function openRacers(racers: number, seen: (url: string) => void = () => {}) {
  const db = await gate.freshDatabase();
  seen(db.url);
  const stores = Array.from({ length: racers }, () => PostgresStore.open({ url: db.url, poolSize: 4 }));
  await Promise.all(stores.map((store) => store.opened()));
  return {
    stores,
    close: async () => {
      await Promise.all(stores.map((s) => s.close()));
      await db.dispose();
    },
  };
}

gate.describe('concurrency contract: PostgreSQL, several pools on one database', () => {
  it('every join fires once, no attempt is claimed twice, max_concurrency holds, every job ends (property)', async () => {
    await raceContract((racers) => openRacers(racers), { numRuns: 3, jobs: 12 });
  }, 180_000);

  it('holds with racers in separate processes as well (property)', async () => {
    let url = '';
    let children = 0;
    await raceContract(
      (racers) =>
        openRacers(racers, (opened) => {
          url = opened;
        }),
      { numRuns: 1, jobs: 12, spawn: (delays) => childRacer(url, `child-${++children}`, delays) },
    );
  }, 180_000);
});
