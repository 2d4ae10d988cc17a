import { type Kysely, sql } from 'kysely';

/** The tables whose state mix the scheduler's queries are planned from. */
const QUEUE_TABLES = ['jobs', 'tasks', 'attempts'] as const;

/**
 * Keeps PostgreSQL's planner statistics of the queue's tables current. A queue's tables change
 * their mix of states wholesale (a bulk submit adds 100,000 PENDING jobs; admission then makes
 * them READY) far faster than autovacuum re-analyzes them (a minute apart at best). Planned from
 * statistics that say no task is READY, the scheduler's queries hash or sort every READY row
 * instead of walking the partial indexes in order: measured with 30,000 ready jobs, a claim's
 * UPDATE took 71 ms instead of 0.1 and a page of due jobs 29 ms instead of 0.3, per call, so the
 * drain slowed as the queue grew. Every second a check reads how many rows changed since each
 * table's last analyze (one statement on pg_stat_user_tables) and analyzes at once the tables past
 * autovacuum's own rule (a tenth of the table, at least 1,000 rows).
 */
export class QueueStatistics {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

  constructor(
    private readonly db: Kysely<unknown>,
    private readonly onError: (error: unknown) => void,
    private readonly everyMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), this.everyMs);
    this.timer.unref();
  }

  private check(): void {
    this.checking ??= this.analyzeStale()
      .catch(this.onError)
      .finally(() => {
        this.checking = undefined;
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private async analyzeStale(): Promise<void> {
    const { rows } = await sql<{ relname: string }>`
      SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema() AND s.relname IN (${sql.join(QUEUE_TABLES.map((t) => sql`${t}`))})
        AND s.n_mod_since_analyze >= GREATEST(1000, c.reltuples / 10)`.execute(this.db);
    if (rows.length === 0) return;
    await sql`ANALYZE ${sql.join(rows.map((row) => sql.id(row.relname)))}`.execute(this.db);
  }
}
