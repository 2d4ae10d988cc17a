import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { it } from 'vitest';
import { allEnded, diamondDefinition, expectNothingDroppedOrRepeated, startQueenProcess, stopped } from './processes.js';

const gate = await postgres();
/** Sized for CI; MYRMEX_CHAOS_JOBS=1000 runs the full version. */
const JOBS = Number(process.env.MYRMEX_CHAOS_JOBS ?? 24);
const KILLS = Number(process.env.MYRMEX_CHAOS_KILLS ?? 3);
/** Time for every job to end after the last kill: 12 task slots, four 0.1 s tasks per job, with room for a loaded machine. */
const END_MS = Math.max(90_000, JOBS * 400);

gate.describe('three queen processes on one PostgreSQL, one killed with -9 every few seconds', () => {
  it(
    'every job ends, every join fires once, every accepted attempt ran its side effect once',
    async () => {
      const db = await gate.freshDatabase();
      const dir = mkdtempSync(join(tmpdir(), 'myrmex-chaos-'));
      const effects = join(dir, 'effects');
      const queens: ChildProcess[] = [];
      // This process only submits and reads: no ant, so it runs nothing itself.
      const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 } });
      try {
        await front.start();
        await front.applyDefinition(diamondDefinition('chaos', effects));
        queens.push(...(await Promise.all([0, 1, 2].map(() => startQueenProcess(db.url)))));
        const ids: string[] = [];
        for (let i = 0; i < JOBS; i++) ids.push((await front.submit({ jobType: 'chaos' })).id);

        for (let k = 0; k < KILLS; k++) {
          await new Promise((resolve) => setTimeout(resolve, 1500));
          const victim = k % queens.length;
          await stopped(queens[victim]!, 'SIGKILL');
          queens[victim] = await startQueenProcess(db.url);
        }

        expectNothingDroppedOrRepeated(await allEnded(front, ids, END_MS), effects, /^queen restarted/);
      } finally {
        await Promise.all(queens.map((queen) => stopped(queen, 'SIGKILL')));
        await front.stop();
        await db.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    END_MS + KILLS * 15_000 + 60_000,
  );
});
