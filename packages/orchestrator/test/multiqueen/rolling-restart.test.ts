import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTerminalJob, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { expect, it } from 'vitest';
import { allEnded, diamondDefinition, expectNothingDroppedOrRepeated, startQueenProcess, stopped } from './processes.js';

const gate = await postgres();
/** Jobs submitted before each restart; sized for CI, MYRMEX_ROLLING_JOBS=300 runs a bigger version. */
const WAVE = Number(process.env.MYRMEX_ROLLING_JOBS ?? 10);

gate.describe('a rolling restart of three queen processes on one PostgreSQL', () => {
  it('restarting each queen in turn (SIGTERM, then start) drops nothing: every job ends, joins fire once, effects once', async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-rolling-'));
    const effects = join(dir, 'effects');
    const queens: ChildProcess[] = [];
    // This process only submits and reads: no ant, so it runs nothing itself.
    const front = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 } });
    try {
      await front.start();
      await front.applyDefinition(diamondDefinition('rolling', effects));
      queens.push(...(await Promise.all([0, 1, 2].map(() => startQueenProcess(db.url)))));
      const ids: string[] = [];
      for (let victim = 0; victim < queens.length; victim++) {
        // A fresh wave before each restart, so every queen stops with work in flight.
        const wave = await front.submitMany(Array.from({ length: WAVE }, () => ({ jobType: 'rolling' })));
        ids.push(...wave.map((job) => job.id));
        const open = (await Promise.all(ids.map((id) => front.getJob(id)))).filter((job) => job && !isTerminalJob(job.state));
        expect(open.length).toBeGreaterThan(0);
        // Graceful: the queen stops claiming, lets its running tasks finish, hands back what is left and exits 0.
        expect(await stopped(queens[victim]!, 'SIGTERM')).toBe(0);
        queens[victim] = await startQueenProcess(db.url);
      }

      // Handed back at a stop ('queen stopped') or taken over from a stalled queen: the retry policy applies, nothing is lost.
      expectNothingDroppedOrRepeated(await allEnded(front, ids, 60_000), effects, /^queen (stopped|restarted)/);
    } finally {
      await Promise.all(queens.map((queen) => stopped(queen, 'SIGKILL')));
      await front.stop();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
