import { type RawBuilder, sql } from 'kysely';
import type { ClaimNext } from '../store.js';
import { STARTABLE } from './hot-queries.js';

/**
 * The writes of a claim, as CTEs after `c` (the claims: n, job_id, task_type, at, ant_org, ant_id, owner,
 * lease_until, deadline) and `l` (their jobs, locked: id, state, org): the tasks still READY (and due, and of
 * the ant's organisation) move to EXECUTING (`u`), their attempts are inserted (`a`), their jobs' revisions
 * move and a READY job starts with its first claim in order (`f`, `s`, which returns the jobs as written), and
 * the timeline rows are written in claim order (`e`). For dialects whose WITH takes writes (PostgreSQL).
 */
export const claimWrites = (eventNotify: RawBuilder<unknown>) => sql`
  u AS (UPDATE tasks SET state = 'EXECUTING', attempt = attempt + 1, run_attempts = run_attempts + 1, not_before = NULL, kill = NULL
        FROM c JOIN l ON l.id = c.job_id
        WHERE tasks.job_id = c.job_id AND tasks.task_type = c.task_type AND tasks.state = 'READY'
          AND (tasks.not_before IS NULL OR tasks.not_before <= c.at) AND (c.ant_org IS NULL OR c.ant_org = l.org)
        RETURNING c.n, c.job_id, c.task_type, c.at, c.ant_id, c.owner, c.lease_until, c.deadline, l.state AS job_state,
                  tasks.attempt, tasks.run_attempts),
  f AS (SELECT DISTINCT ON (job_id) job_id, task_type, n, at, deadline FROM u WHERE job_state = 'READY' ORDER BY job_id, n),
  a AS (INSERT INTO attempts (job_id, task_type, attempt, state, started_at, ant_id, owner, lease_until, resources)
        SELECT job_id, task_type, attempt, 'EXECUTING', at, ant_id, owner, lease_until, NULL FROM u),
  s AS (UPDATE jobs SET state = CASE WHEN f.job_id IS NULL THEN jobs.state ELSE 'EXECUTING' END,
          started_at = CASE WHEN f.job_id IS NULL THEN jobs.started_at ELSE COALESCE(jobs.started_at, f.at) END,
          deadline_at = CASE WHEN f.job_id IS NULL THEN jobs.deadline_at ELSE f.deadline END,
          revision = jobs.revision + 1
        FROM (SELECT DISTINCT job_id FROM u) AS touched LEFT JOIN f ON f.job_id = touched.job_id
        WHERE jobs.id = touched.job_id
        RETURNING jobs.*),
  e AS (INSERT INTO events (job_id, task_type, from_state, to_state, at, reason)
        SELECT job_id, task_type, 'READY', 'EXECUTING', at, reason FROM (
          SELECT n, 0 AS k, job_id, task_type, at, 'attempt ' || attempt || ' on ant ' || ant_id AS reason FROM u
          UNION ALL SELECT n, 1, job_id, NULL, at, 'task ' || task_type || ' started' FROM f) AS x
        ORDER BY n, k
        RETURNING *${eventNotify})`;

/** The timeline rows a claim wrote, each with its claim's number, attempt and run count (task rows only). */
export const claimedEvents = sql`
  SELECT e.*, COALESCE(u.n, f.n) AS claim, u.attempt, u.run_attempts
  FROM e LEFT JOIN u ON e.task_type IS NOT NULL AND u.job_id = e.job_id AND u.task_type = e.task_type
         LEFT JOIN f ON e.task_type IS NULL AND f.job_id = e.job_id`;

/**
 * The claimed jobs as the claim leaves them, each with all its tasks (the claimed ones as `u` wrote them, the
 * others as read), as JSON: what the queen renders the attempts from and plans their results from, so it
 * does not read them again (the statement holds their rows locked until it commits, so this is what commits).
 */
const claimedJobs = sql`
  SELECT json_agg(json_build_object('job', to_jsonb(s), 'tasks', (
           SELECT json_agg(json_build_object('job_id', t.job_id, 'task_type', t.task_type,
                    'state', COALESCE(cu.state, t.state), 'attempt', COALESCE(cu.attempt, t.attempt),
                    'run_attempts', COALESCE(cu.run_attempts, t.run_attempts), 'exit_code', t.exit_code, 'reason', t.reason,
                    'outputs', t.outputs, 'route', t.route, 'fatal', t.fatal,
                    'not_before', CASE WHEN cu.job_id IS NULL THEN t.not_before END, 'ended_at', t.ended_at,
                    'kill', CASE WHEN cu.job_id IS NULL THEN t.kill END) ORDER BY t.position)
           FROM tasks t
           LEFT JOIN (SELECT job_id, task_type, 'EXECUTING' AS state, attempt, run_attempts FROM u) AS cu
             ON cu.job_id = t.job_id AND cu.task_type = t.task_type
           WHERE t.job_id = s.id)))
  FROM s`;

const kindRow = (k: { jobType: string; version: number; taskType: string }) =>
  sql`CAST(${k.jobType} AS TEXT), CAST(${k.version} AS INTEGER), CAST(${k.taskType} AS TEXT)`;

/**
 * The limit written into the statement rather than bound: planned once for all parameter values (a named
 * statement's generic plan), `LIMIT $n` is costed as a tenth of the ready queue (500 of 5,000), so PostgreSQL
 * kept planning every claim anew (about 1 ms each); with the number in the text the generic plan is the custom
 * one. A claim's limit is the free slots, so there are as many texts as slot counts.
 */
function limitLiteral(limit: number): RawBuilder<unknown> {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`claim limit must be a whole number >= 0, got ${limit}`);
  return sql.lit(limit);
}

/**
 * The next READY tasks for one ant, walked in the ready index's order (priority, then submission) and
 * locked with their jobs, skipping the jobs another queen holds (`FOR UPDATE OF j SKIP LOCKED`): at
 * most `limit` rows of the index are read, however long the queue. Kinds the ant can never run are
 * passed over; the others come out in order, to be claimed up to the first one the caller must place
 * itself. Its own statement so test/store/plans.test.ts can check its plan.
 */
export const readyPick = (now: number, request: Pick<ClaimNext, 'limit' | 'skip' | 'antOrg'>) => {
  const conditions = [sql`j.id = t.job_id AND t.state = 'READY' AND (t.not_before IS NULL OR t.not_before <= ${now}) AND ${STARTABLE}`];
  if (request.antOrg !== undefined) conditions.push(sql`j.org = ${request.antOrg}`);
  if (request.skip.length > 0)
    conditions.push(sql`(j.job_type, j.version, t.task_type) NOT IN (VALUES ${sql.join(request.skip.map((k) => sql`(${kindRow(k)})`))})`);
  return sql`SELECT t.job_id, t.task_type, t.priority AS task_priority, t.job_seq, t.position,
                    j.state AS job_state, j.org, j.job_type, j.version, j.priority, j.submitted_at, j.seq
             FROM tasks t CROSS JOIN jobs j
             WHERE ${sql.join(conditions, sql` AND `)}
             ORDER BY t.priority DESC, t.job_seq, t.position LIMIT ${limitLiteral(request.limit)}
             FOR UPDATE OF j SKIP LOCKED`;
};

/**
 * ClaimNext as one statement: `readyPick` (materialized, so its locks are taken once), then the picked
 * rows in order with their kind looked up in `take`; the claims are the rows before the first one whose
 * kind is not there (so nothing this queen must place itself is jumped), written by `claimWrites`. Returns
 * one row per timeline row written, the first with `picked` (JSON of every picked row in order, `claimable`
 * for those before that first one) and `loaded` (see `claimedJobs`); a single row with null columns
 * besides those when nothing was claimed. Only the first row carries the JSON: on every row it was sent
 * and parsed once per timeline row (two per claim), a cost that grew with the square of the claims.
 */
export function claimNextStatement(request: ClaimNext, eventNotify: RawBuilder<unknown>): RawBuilder<Record<string, unknown>> {
  const at = request.at.getTime();
  const take =
    request.take.length > 0
      ? sql.join(request.take.map((k) => sql`(${kindRow(k)}, CAST(${k.jobTimeoutMs ?? null} AS BIGINT))`))
      : // No kind known yet: a row that joins nothing, so every picked task is returned unclaimed.
        sql`(CAST(NULL AS TEXT), CAST(NULL AS INTEGER), CAST(NULL AS TEXT), CAST(NULL AS BIGINT))`;
  return sql<Record<string, unknown>>`
    WITH k (job_type, version, task_type, timeout_ms) AS (VALUES ${take}),
      picked AS MATERIALIZED (${readyPick(at, request)}),
      o AS (SELECT p.*, k.job_type IS NOT NULL AS known, k.timeout_ms,
                   row_number() OVER (ORDER BY p.task_priority DESC, p.job_seq, p.position) AS r
            FROM picked p LEFT JOIN k ON k.job_type = p.job_type AND k.version = p.version AND k.task_type = p.task_type),
      stop AS (SELECT COALESCE(MIN(r), ${request.limit + 1}) AS r FROM o WHERE NOT known),
      c AS (SELECT CAST(o.r - 1 AS INTEGER) AS n, o.job_id, o.task_type, CAST(${at} AS BIGINT) AS at,
                   CAST(${request.antOrg ?? null} AS TEXT) AS ant_org, CAST(${request.antId} AS TEXT) AS ant_id,
                   CAST(${request.owner ?? request.antId} AS TEXT) AS owner,
                   CAST(${at + (request.leaseMs ?? 30_000)} AS BIGINT) AS lease_until,
                   CAST(${at} AS BIGINT) + o.timeout_ms AS deadline
            FROM o, stop WHERE o.r < stop.r),
      l AS (SELECT DISTINCT job_id AS id, job_state AS state, org FROM picked),
      ${claimWrites(eventNotify)}
    SELECT ev.*, CASE WHEN COALESCE(ev.nth, 1) = 1 THEN seen.picked END AS picked,
           CASE WHEN COALESCE(ev.nth, 1) = 1 THEN (${claimedJobs}) END AS loaded
    FROM (SELECT COALESCE(json_agg(json_build_object('job_id', o.job_id, 'task_type', o.task_type, 'job_type', o.job_type,
                   'version', o.version, 'priority', o.priority, 'submitted_at', o.submitted_at, 'seq', o.seq, 'org', o.org,
                   'claimable', o.r < stop.r) ORDER BY o.r), '[]') AS picked
          FROM o, stop) AS seen
    LEFT JOIN (SELECT claimed.*, row_number() OVER (ORDER BY claimed.seq) AS nth FROM (${claimedEvents}) AS claimed) AS ev ON true
    ORDER BY ev.seq`;
}
