import { isTerminalJob, type JobStore, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import fc from 'fast-check';
import { expect } from 'vitest';
import { CAPPED, DEFINITIONS, DIAMOND, racer } from './racer.js';

/**
 * The concurrency contract: several store instances (each its own connection, as several queens
 * have) drive the same jobs at once under an interleaving fast-check chooses, each with the real
 * engine on top (admission, claims, results, joins). Whatever the interleaving: every join fires
 * exactly once, no attempt is claimed twice, max_concurrency is never exceeded, every job ends.
 */

/** Delays (ms, 0 = a microtask) each racer takes at its decision points, chosen by fast-check. */
const schedule = fc.array(fc.constantFrom(0, 0, 0, 1, 2, 5), { minLength: 1, maxLength: 12 });

/** Runs the contract with `open()` giving the racers' stores on one fresh database, and `close` after. */
export async function raceContract(
  open: (racers: number) => Promise<{ stores: readonly JobStore[]; close: () => Promise<void> }>,
  options: {
    readonly numRuns: number;
    readonly jobs: number;
    /** Runs one more racer in its own process with these delays; resolves with its claims once the jobs ended. */
    readonly spawn?: (delays: readonly number[]) => Promise<readonly string[]>;
  },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(schedule, { minLength: 2, maxLength: 4 }), async (schedules) => {
      const { stores, close } = await open(schedules.length);
      try {
        const [first] = stores;
        for (const def of DEFINITIONS.values()) await first!.saveDefinition(def, JSON.stringify(def), new Date());
        const ids: string[] = [];
        for (let i = 0; i < options.jobs; i++) {
          const def = i % 2 === 0 ? DIAMOND : CAPPED;
          const id = `job-${i}`;
          ids.push(id);
          await stores[i % stores.length]!.createJob({
            id,
            jobType: def.jobType,
            version: 1,
            priority: 50,
            params: {},
            submittedAt: new Date(),
            scheduledAt: new Date(),
            taskTypes: def.tasks.map((t) => t.taskType),
          });
        }
        let ended = false;
        let maxCapped = 0;
        const claims: string[] = [];
        const deadline = Date.now() + 60_000;
        const monitor = (async () => {
          while (!ended) {
            const active = await first!.activeJobsByType();
            maxCapped = Math.max(maxCapped, active.get('capped') ?? 0);
            const page = await first!.listJobs({ limit: 1000 });
            if (page.items.every((job) => isTerminalJob(job.state))) ended = true;
            else if (Date.now() > deadline)
              throw new Error(
                `jobs did not end: ${page.items
                  .filter((j) => !isTerminalJob(j.state))
                  .map((j) => `${j.id}:${j.state}`)
                  .join(', ')}`,
              );
            else await new Promise((resolve) => setTimeout(resolve, 3));
          }
        })();
        const children = options.spawn ? schedules.slice(0, 2).map((delays) => options.spawn!(delays)) : [];
        await Promise.all([monitor, ...stores.map((store, i) => racer(`racer-${i}`, store, schedules[i]!, () => ended, claims))]);
        for (const child of await Promise.all(children)) claims.push(...child);

        expect(new Set(claims).size).toBe(claims.length);
        expect(maxCapped).toBeLessThanOrEqual(CAPPED.maxConcurrency!);
        for (const id of ids) {
          const job = (await first!.job(id))!;
          expect(TERMINAL_JOB_STATES).toContain(job.state);
          expect(job.state).toBe('COMPLETED');
          const timeline = await first!.timeline(id);
          const attempts = await first!.attempts(id);
          const join = job.jobType === 'diamond' ? 'd' : 'join';
          // The join became READY once and ran once; every task ran exactly once.
          expect(timeline.filter((e) => e.taskType === join && e.to === 'READY')).toHaveLength(1);
          expect(attempts.map((a) => `${a.taskType}/${a.attempt}/${a.state}`).sort()).toEqual(
            DEFINITIONS.get(job.jobType)!
              .tasks.map((t) => `${t.taskType}/1/COMPLETED`)
              .sort(),
          );
        }
      } finally {
        await close();
      }
    }),
    // Interleavings also depend on the machine, so a shrunk run would not replay the failure: report the first one as found.
    { numRuns: options.numRuns, endOnFailure: true },
  );
}
