import { type Executor, PostgresStore, Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import pg from 'pg';
import { expect, it } from 'vitest';

/**
 * Database round trips per job on PostgreSQL, where each one costs a network hop (issue 11): a
 * queen with its embedded ant runs single-task jobs that succeed at once, and every statement any
 * of its connections sends is counted. The budget is the guard: a change that adds a re-read or a
 * statement per transition to the hot path shows up here. Prints the statements by kind. Measured
 * when the budgets were set: 12.2 per job in the burst (each submit is its own transaction and
 * wakes a scheduler pass), 3.0 in the backlog (a page of admissions per transaction, a result as
 * one compare-and-set statement); 35.0 and 26.7 before issue 11's work, 18.6 and 11.1 before
 * batched admission. Results that arrive together are written together (one compare-and-set
 * statement per batch, planned from the read made to render the claimed task): 2.8 -> 0.69 in the
 * backlog; a submit for an organisation without a quota is one insert statement without a
 * transaction: 10.6 -> 6.9 in the burst; and with the queen's cached definition, checked by that
 * insert with the organisation, the awaited submit is that one statement (3 -> 1): 6.9 -> 3.5. A
 * claim of a batch is one statement (lock skipping, tasks, attempts, jobs, timeline) instead of a
 * transaction of 5 round trips: 0.66 -> 0.42 in the backlog; 2.6-3.8 in the burst (it varies with
 * how many jobs each scheduler pass finds). The pick is part of the claim (claimNext: no ready page is
 * read before it): 0.42 -> 0.39 in the backlog, 3.5 -> 3.1 in the burst; and it returns the claimed
 * jobs with their tasks to render from (no read after it): 0.39 -> 0.35, 3.1 -> 2.9. Admission of plain
 * kinds is one statement too (admitNext: no due page, read of its jobs or locked transaction; 7 -> 1 per
 * scheduler pass): 2.98 -> 2.29 in the burst, 0.29 in the backlog either way (one page per 500 jobs).
 * What comes back is counted too: a claim's JSON once, not on each of its timeline rows. And how many
 * went as named prepared statements (the server parses and plans those once per connection).
 */

const gate = await postgres();

const NOOP: Executor = { method: 'NOOP', execute: async () => ({ exitCode: 0, succeeded: true }) };
const DEFINITION = 'job_type: rt\ntasks:\n  - task_type: only\n    method: NOOP\n';

/**
 * Counts every query sent by any pg client in this process while `counting` is set, by its first words, and
 * the characters of the rows they answered (as JSON): what the queen parses back.
 */
const kinds = new Map<string, number>();
let counting = false;
let received = 0;
let named = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (!counting) return query.apply(this, args);
  const first = args[0];
  const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
  const kind = text.replace(/\s+/g, ' ').trim().slice(0, 60);
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  if (typeof first === 'object' && (first as { name?: string } | null)?.name !== undefined) named++;
  const answer = query.apply(this, args);
  if (answer instanceof Promise)
    void answer.then(
      (result: { rows?: unknown[] }) => {
        if (counting) received += JSON.stringify(result?.rows ?? []).length;
      },
      () => undefined,
    );
  return answer;
} as typeof pg.Client.prototype.query;

async function roundTripsPerJob(
  jobs: number,
  submit: (queen: Queen) => Promise<void>,
): Promise<{ statements: number; received: number; named: number }> {
  const db = await gate.freshDatabase();
  const store = PostgresStore.open({ url: db.url, poolSize: 8 });
  const queen = await Queen.open({ store, ant: { capacity: 16 }, executors: [NOOP] });
  try {
    await queen.applyDefinition(DEFINITION);
    let ended = 0;
    const all = new Promise<void>((resolve) => {
      queen.onTransition((event) => {
        if (event.taskType === undefined && (TERMINAL_JOB_STATES as readonly string[]).includes(event.to) && ++ended === jobs) resolve();
      });
    });
    kinds.clear();
    received = 0;
    named = 0;
    counting = true;
    await queen.start();
    await submit(queen);
    await all;
    counting = false;
    const total = [...kinds.values()].reduce((a, b) => a + b, 0);
    const top = [...kinds].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${(n / jobs).toFixed(2).padStart(6)}  ${kind}`);
    console.log(
      `${jobs} jobs: ${(total / jobs).toFixed(2)} round trips and ${Math.round(received / jobs)} characters back per job\n${top.join('\n')}`,
    );
    return { statements: total / jobs, received: received / jobs, named: named / total };
  } finally {
    counting = false;
    await queen.stop();
    await db.dispose();
  }
}

gate.describe('round trips per job on PostgreSQL', () => {
  it('a burst of awaited single submits stays within its budget', async () => {
    const perJob = await roundTripsPerJob(200, async (queen) => {
      for (let i = 0; i < 200; i++) await queen.submit({ jobType: 'rt' });
    });
    expect(perJob.statements).toBeLessThan(4);
    // Each of them parsed, analysed and planned anew cost the server more than running it: they go as named
    // prepared statements (about 1.2 of its 3.1 ms of CPU per job in a burst of 3,000 saved).
    expect(perJob.named).toBeGreaterThan(0.9);
  }, 60_000);

  it('a bulk-submitted backlog stays within its budget', async () => {
    const perJob = await roundTripsPerJob(500, async (queen) => {
      await queen.submitMany(Array.from({ length: 500 }, () => ({ jobType: 'rt' })));
    });
    expect(perJob.statements).toBeLessThan(1);
    // A claim of n tasks writes 2n timeline rows; its picked tasks and claimed jobs (JSON) came back on every one
    // of them: 26,500 characters per job with 16 slots, parsed each time. Once per claim: 2,350.
    expect(perJob.received).toBeLessThan(6000);
  }, 60_000);

  it('a bulk submit is one statement whatever its size (tasks and timeline rows in it), on a queen that knows the definition', async () => {
    const db = await gate.freshDatabase();
    const queen = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 }, executors: [NOOP] });
    try {
      await queen.applyDefinition(
        'job_type: rt3\ntasks:\n  - task_type: a\n    method: NOOP\n  - task_type: b\n    method: NOOP\n    needs: [a]\n',
      );
      await queen.submit({ jobType: 'rt3' });
      for (const size of [1, 1000, 3000]) {
        kinds.clear();
        counting = true;
        await queen.submitMany(Array.from({ length: size }, (_, n) => ({ jobType: 'rt3', params: { n } })));
        counting = false;
        expect([...kinds]).toEqual([[expect.stringMatching(/^WITH v AS /), 1]]);
      }
    } finally {
      counting = false;
      await queen.stop();
      await db.dispose();
    }
  }, 60_000);
});
