import type pg from 'pg';

export interface NamedStatementOptions {
  /** How often a text must have been sent before it gets a name (default 2: a one-off is never kept). */
  readonly after?: number;
  /**
   * Names handed out at most, per pool (default 64): each is a prepared statement on every connection, and the server
   * keeps its parse tree and plans, about 0.25 MB for the store's statements of a dozen CTEs (a queen running plain
   * jobs and DAGs, submitted one by one and in bulk, named 26 and its connection held 6 MB of them).
   */
  readonly max?: number;
}

/** PostgreSQL's answer when a prepared `SELECT *` or `RETURNING *` meets a table whose columns changed. */
const RESULT_TYPE_CHANGED = 'cached plan must not change result type';

/**
 * Sends the statements a pool repeats as named prepared statements. Kysely sends every statement unnamed, so
 * the server parses, analyses and plans its text at each execution; for the store's hot statements (a claim or
 * an admission is one statement of a dozen CTEs) that cost more of the server's CPU than running them (measured
 * with pg_stat_statements in a burst: about 1 ms of planning per claim against 0.6 ms of execution). A named
 * statement is parsed once per connection, and after five executions PostgreSQL plans it once for all
 * parameter values when that plan costs no more than the custom ones (`plan_cache_mode` auto).
 *
 * Only statements with parameters are named (Kysely sends BEGIN and COMMIT without: nothing to gain there).
 * Texts are counted and named in order of repetition, up to `max` names; beyond that, and for a text sent
 * fewer than `after` times, statements go unnamed as before, so statements whose text varies (an `IN` list of
 * ids) cannot make the server keep an unbounded set. A connection whose prepared statement stops matching its
 * table (a migration added a column while this queen ran: PostgreSQL refuses the cached plan) fails that one
 * statement and sends everything unnamed from then on.
 */
export function nameRepeatedStatements(pool: pg.Pool, options: NamedStatementOptions = {}): void {
  const after = options.after ?? 2;
  const max = options.max ?? 64;
  const names = new Map<string, string>();
  const counts = new Map<string, number>();
  const nameOf = (text: string): string | undefined => {
    const named = names.get(text);
    if (named !== undefined || names.size >= max) return named;
    const count = (counts.get(text) ?? 0) + 1;
    if (count < after) {
      // Bounded like the names: texts that never repeat must not accumulate either.
      if (counts.size >= 4 * max) counts.clear();
      counts.set(text, count);
      return undefined;
    }
    counts.delete(text);
    const name = `myrmex_${names.size}`;
    names.set(text, name);
    return name;
  };
  pool.on('connect', (client) => {
    // Looked up at each call, not kept: what patches the class later (tracing, a test's spy) must still see every call.
    const prototype = Object.getPrototypeOf(client) as { query: (...args: unknown[]) => unknown };
    const send = (...args: unknown[]) => prototype.query.apply(client, args);
    let unnamed = false;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const [text, values] = args;
      const name =
        !unnamed && args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0 ? nameOf(text) : undefined;
      if (name === undefined) return send(...args);
      return (send({ name, text, values }) as Promise<unknown>).catch((error: unknown) => {
        if (error instanceof Error && error.message.includes(RESULT_TYPE_CHANGED)) unnamed = true;
        throw error;
      });
    };
  });
}
