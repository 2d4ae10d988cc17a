import { randomUUID } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import {
  type AcquireResult,
  type ConsumablePool,
  type ConsumableRequest,
  type ConsumableStore,
  UNCLAIMED_HOLD_MS,
} from '../consumables.js';
import type { Executor, SqlDialect } from './sql-store.js';

type Row = Record<string, unknown>;

/**
 * Migration 0015 (with the circuit breakers): consumable pools and their holds. A hold names what
 * it was taken for (the job, or the task and the attempt about to be claimed); `task_type` is ''
 * for a job hold. One acquire's task holds share a token, so a lost claim gives back exactly them.
 */
export const CONSUMABLES_SCHEMA = `
  CREATE TABLE consumables (
    name TEXT PRIMARY KEY,
    capacity INTEGER NOT NULL,
    updated_at $BIG NOT NULL
  );
  CREATE TABLE consumable_holds (
    token TEXT NOT NULL,
    name TEXT NOT NULL,
    job_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    units INTEGER NOT NULL,
    held_at $BIG NOT NULL,
    PRIMARY KEY (name, job_id, task_type, token)
  );
  CREATE INDEX consumable_holds_token ON consumable_holds (token)
`;

/** Whether a hold still counts: its job has not ended, or its task runs the attempt it was taken for (or has not claimed it yet). */
const live = (now: number): RawBuilder<unknown> => sql`(
  (consumable_holds.task_type = '' AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = consumable_holds.job_id
    AND j.state IN ('PENDING', 'READY', 'EXECUTING', 'PAUSED')))
  OR (consumable_holds.task_type <> '' AND EXISTS (SELECT 1 FROM tasks t
    WHERE t.job_id = consumable_holds.job_id AND t.task_type = consumable_holds.task_type
    AND ((t.state = 'EXECUTING' AND t.attempt = consumable_holds.attempt)
      OR (t.attempt < consumable_holds.attempt AND consumable_holds.held_at > ${now - UNCLAIMED_HOLD_MS})))))`;

async function rows(query: RawBuilder<unknown>, db: Executor): Promise<Row[]> {
  return (await query.execute(db)).rows as Row[];
}

export class SqlConsumableStore implements ConsumableStore {
  constructor(
    private readonly db: Executor,
    private readonly dialect: SqlDialect,
    private readonly ready: Promise<unknown>,
  ) {}

  async declare(name: string, capacity: number, at: Date): Promise<void> {
    if (!Number.isSafeInteger(capacity) || capacity < 0)
      throw new RangeError(`capacity of ${name} must be a whole number >= 0, got ${capacity}`);
    await this.ready;
    await sql`INSERT INTO consumables (name, capacity, updated_at) VALUES (${name}, ${capacity}, ${at.getTime()})
      ON CONFLICT (name) DO UPDATE SET capacity = excluded.capacity, updated_at = excluded.updated_at`.execute(this.db);
  }

  async pools(now: number): Promise<readonly ConsumablePool[]> {
    await this.ready;
    const pools = await rows(sql`SELECT name, capacity FROM consumables ORDER BY name`, this.db);
    const holds = await rows(sql`SELECT * FROM consumable_holds WHERE ${live(now)} ORDER BY held_at`, this.db);
    return pools.map((pool) => {
      const mine = holds.filter((h) => h.name === pool.name);
      return {
        name: String(pool.name),
        capacity: Number(pool.capacity),
        inUse: mine.reduce((sum, h) => sum + Number(h.units), 0),
        holders: mine.map((h) => ({
          jobId: String(h.job_id),
          ...(h.task_type === '' ? {} : { taskType: String(h.task_type) }),
          units: Number(h.units),
          since: new Date(Number(h.held_at)),
        })),
      };
    });
  }

  async acquire(jobId: string, taskType: string, requests: readonly ConsumableRequest[], now: number): Promise<AcquireResult> {
    await this.ready;
    const token = randomUUID();
    return this.dialect.transaction(async (tx) => {
      const [task] = await rows(sql`SELECT attempt FROM tasks WHERE job_id = ${jobId} AND task_type = ${taskType}`, tx);
      const attempt = Number(task?.attempt ?? 0) + 1;
      const inserts: RawBuilder<unknown>[] = [];
      // Pools in name order: two queens locking the same pools never wait on each other in a cycle.
      for (const name of [...new Set(requests.map((r) => r.name))].sort()) {
        const [pool] = await rows(sql`SELECT capacity FROM consumables WHERE name = ${name} ${this.dialect.lock(false)}`, tx);
        await sql`DELETE FROM consumable_holds WHERE name = ${name} AND NOT ${live(now)}`.execute(tx);
        const [used] = await rows(sql`SELECT COALESCE(SUM(units), 0) AS used FROM consumable_holds WHERE name = ${name}`, tx);
        const inUse = Number(used?.used ?? 0);
        if (pool === undefined) return { acquired: false, name, inUse };
        let need = 0;
        for (const request of requests.filter((r) => r.name === name)) {
          if (request.scope === 'job') {
            const [held] = await rows(
              sql`SELECT 1 AS held FROM consumable_holds WHERE name = ${name} AND job_id = ${jobId} AND task_type = ''`,
              tx,
            );
            if (held !== undefined) continue;
          }
          need += request.units;
          inserts.push(
            sql`(${token}, ${name}, ${jobId}, ${request.scope === 'job' ? '' : taskType}, ${attempt}, ${request.units}, ${now})`,
          );
        }
        const capacity = Number(pool.capacity);
        if (inUse + need > capacity) return { acquired: false, name, inUse, capacity };
      }
      if (inserts.length > 0) {
        await sql`INSERT INTO consumable_holds (token, name, job_id, task_type, attempt, units, held_at) VALUES ${sql.join(inserts)}`.execute(
          tx,
        );
      }
      return { acquired: true, token };
    });
  }

  async release(token: string): Promise<void> {
    await this.ready;
    // Job holds stay: the job still runs, and another queen may already count on them.
    await sql`DELETE FROM consumable_holds WHERE token = ${token} AND task_type <> ''`.execute(this.db);
  }
}
