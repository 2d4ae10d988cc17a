import { type AttemptResult, type Claimed, type JobDefinition, type JobStore, Supervisor } from '@myrmex/orchestrator';
import { definition, JOIN_KEY } from '../engine/definitions.js';

/** One racer of the concurrency contract (test/concurrency/race.ts), usable in a child process too. */

export const DIAMOND: JobDefinition = definition(
  [
    { task_type: 'a' },
    { task_type: 'b', [JOIN_KEY]: ['a'] },
    { task_type: 'c', [JOIN_KEY]: ['a'] },
    { task_type: 'd', [JOIN_KEY]: ['b', 'c'] },
  ],
  { job_type: 'diamond' },
);
export const CAPPED: JobDefinition = definition([{ task_type: 'x' }, { task_type: 'y' }, { task_type: 'join', [JOIN_KEY]: ['x', 'y'] }], {
  job_type: 'capped',
  max_concurrency: 2,
});
export const DEFINITIONS = new Map([
  ['diamond', DIAMOND],
  ['capped', CAPPED],
]);

/** Every kind of task of DEFINITIONS, at the version the race submits. */
const KINDS = [...DEFINITIONS.values()].flatMap((d) => d.tasks.map((t) => ({ jobType: d.jobType, version: 1, taskType: t.taskType })));

/** DEFINITIONS as kinds the store may admit on its own: the tasks a fresh job's admission makes READY, and the cap. */
const ADMISSIONS = [
  { jobType: 'diamond', version: 1, start: ['a'] },
  { jobType: 'capped', version: 1, start: ['x', 'y'], maxConcurrency: CAPPED.maxConcurrency! },
];

const OK: AttemptResult = { succeeded: true, exitCode: 0 };

export async function racer(
  name: string,
  store: JobStore,
  delays: readonly number[],
  over: () => boolean,
  claims: string[],
): Promise<void> {
  const supervisor = new Supervisor(store, {
    definition: async (jobType) => DEFINITIONS.get(jobType)!,
    committed: () => {},
    kill: () => {},
    retryDelay: () => 0,
  });
  let step = 0;
  let round = 0;
  const pause = async () => {
    const ms = delays[step++ % delays.length]!;
    await (ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms)));
  };
  while (!over()) {
    const now = Date.now();
    let worked = false;
    // Every other pair of rounds, where the store can, admission is one step (admitNext) and races the racers
    // that read the due page and admit what they read (both count max_concurrency under the type's lock).
    const inStore = round % 4 < 2 ? await store.admitNext?.({ at: new Date(now), limit: 10, take: ADMISSIONS }) : undefined;
    if (inStore !== undefined) {
      if (inStore.admitted > 0) worked = true;
    } else {
      const due = await store.duePendingJobs(now, 10);
      await pause();
      const admitted = await supervisor.admitMany(
        due.map((job) => ({ jobId: job.id, maxConcurrency: DEFINITIONS.get(job.jobType)!.maxConcurrency })),
      );
      if (admitted.includes(true)) worked = true;
    }
    // Every other round, where the store can, the pick is part of the claim (claimNext) and races the
    // racers that read the ready page first and claim what they read.
    const picked =
      round++ % 2 === 0
        ? await store.claimNext?.({ antId: name, owner: name, at: new Date(now), limit: 10, take: KINDS, skip: [] })
        : undefined;
    let claimed: readonly Claimed[] = picked?.claimed ?? [];
    if (picked === undefined) {
      const ready = await store.readyTasks(now, 10);
      await pause();
      claimed = await store.claimMany(
        ready.map((t) => ({ jobId: t.jobId, taskType: t.taskType, antId: name, owner: name, at: new Date(now) })),
      );
    }
    for (const c of claimed) claims.push(`${c.jobId}/${c.taskType}/${c.attempt}`);
    // As a queen does: results plan from the read made after the claim, which the pause below lets
    // other racers make stale (a sibling task ends), so the refused compare-and-set is raced too.
    if (claimed.length > 0) supervisor.remember(await store.jobsWithTasks(claimed.map((c) => c.jobId)));
    await Promise.all(
      claimed.map(async (c) => {
        await pause();
        await supervisor.attemptFinished(c.jobId, c.taskType, c.attempt, OK, {});
      }),
    );
    if (claimed.length > 0) worked = true;
    if (!worked) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
