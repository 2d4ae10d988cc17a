import { notifyChannel, outboxStatements, outboxTables, prepareEvents } from '@myrmex/tx/outbox';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { TimelineEvent } from '../domain/types.js';
import type { DialectName } from '../store/sql/migrations.js';
import { LIFECYCLE_TABLE, lifecycleEvents } from './lifecycle.js';

/** Called by the SQL store inside each transaction that changed jobs, with the timeline rows it wrote. */
export type TransitionsWriter = (tx: Kysely<unknown>, transitions: readonly TimelineEvent[]) => Promise<void>;

export interface LifecycleWriterOptions {
  readonly topic: string;
  /** The trace id of a transition's job, when known (see server/observability.ts). */
  readonly traceId?: (transition: TimelineEvent) => string | undefined;
}

/**
 * Writes a lifecycle event per transition into the queen's outbox table, in the transition's own
 * transaction: an event exists exactly when its transition committed. The relay (./relay.ts)
 * delivers them.
 */
export function lifecycleWriter(dialect: DialectName, options: LifecycleWriterOptions): TransitionsWriter {
  const target = { tables: outboxTables(LIFECYCLE_TABLE), channel: notifyChannel(LIFECYCLE_TABLE), delivery: 'relay' as const };
  const placeholder = dialect === 'postgres' ? (n: number) => `$${n}` : () => '?';
  return async (tx, transitions) => {
    if (transitions.length === 0) return;
    const ids = [...new Set(transitions.map((t) => t.jobId))];
    const { rows } = await sql<{ id: string; job_type: string }>`SELECT id, job_type FROM jobs WHERE id IN (${sql.join(ids)})`.execute(tx);
    const types = new Map(rows.map((r) => [r.id, r.job_type]));
    const envelopes = prepareEvents(lifecycleEvents(transitions, types, options.topic, options.traceId));
    for (const statement of outboxStatements(dialect, placeholder, target, envelopes)) {
      await tx.executeQuery(CompiledQuery.raw(statement.sql, [...statement.params]));
    }
  };
}
