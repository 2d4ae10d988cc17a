import type { Dialect } from '../core/retry.js';

/** Table names of one outbox; every statement of the outbox and the relay is built from them. */
export interface OutboxTables {
  readonly outbox: string;
  /** Poison events, moved here after the relay's last attempt. */
  readonly dead: string;
  /** MariaDB only: one row per aggregate key, locked by each writer so a key's events commit in sequence order. */
  readonly keys: string;
}

export function outboxTables(table: string): OutboxTables {
  return { outbox: table, dead: `${table}_dead`, keys: `${table}_keys` };
}

// Columns shared by the outbox and the dead-letter table. `seq` orders events; `id` identifies them to brokers.
const columns: Record<Dialect, { seq: string; text: string; key: string; ms: string }> = {
  postgres: { seq: 'bigserial PRIMARY KEY', text: 'text', key: 'varchar(255)', ms: 'bigint' },
  mysql: { seq: 'bigint NOT NULL AUTO_INCREMENT PRIMARY KEY', text: 'longtext', key: 'varchar(255)', ms: 'bigint' },
  sqlite: { seq: 'INTEGER PRIMARY KEY AUTOINCREMENT', text: 'TEXT', key: 'TEXT', ms: 'INTEGER' },
};

/** DDL for the outbox, idempotent (IF NOT EXISTS), one statement per entry. */
export function outboxDdl(dialect: Dialect, tables: OutboxTables): string[] {
  const c = columns[dialect];
  const body = (seq: string) => `(
    seq ${seq},
    id ${c.key} NOT NULL,
    aggregate_type ${c.key} NOT NULL,
    aggregate_id ${c.key} NOT NULL,
    type ${c.key} NOT NULL,
    topic ${c.key} NOT NULL,
    payload ${c.text} NOT NULL,
    headers ${c.text} NOT NULL,
    occurred_at ${c.ms} NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at ${c.ms} NOT NULL DEFAULT 0,
    last_error ${c.text},
    published_at ${c.ms}`;
  const ddl = [
    `CREATE TABLE IF NOT EXISTS ${tables.outbox} ${body(c.seq)})`,
    `CREATE TABLE IF NOT EXISTS ${tables.dead} ${body(dialect === 'postgres' ? 'bigint PRIMARY KEY' : dialect === 'mysql' ? 'bigint NOT NULL PRIMARY KEY' : 'INTEGER PRIMARY KEY')}, failed_at ${c.ms} NOT NULL)`,
  ];
  const name = tables.outbox.replaceAll('.', '_');
  if (dialect === 'postgres') {
    ddl.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${name}_id ON ${tables.outbox} (id)`,
      // The relay's scans touch unsent rows only; delivered ones wait for the retention sweep.
      `CREATE INDEX IF NOT EXISTS ${name}_unsent ON ${tables.outbox} (seq) WHERE published_at IS NULL`,
      `CREATE INDEX IF NOT EXISTS ${name}_key ON ${tables.outbox} (aggregate_id, seq) WHERE published_at IS NULL`,
      `CREATE INDEX IF NOT EXISTS ${name}_sent ON ${tables.outbox} (published_at) WHERE published_at IS NOT NULL`,
    );
  } else if (dialect === 'mysql') {
    ddl.push(`CREATE TABLE IF NOT EXISTS ${tables.keys} (k varchar(255) NOT NULL PRIMARY KEY)`);
    ddl.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${name}_id ON ${tables.outbox} (id)`,
      `CREATE INDEX IF NOT EXISTS ${name}_unsent ON ${tables.outbox} (published_at, seq)`,
      `CREATE INDEX IF NOT EXISTS ${name}_key ON ${tables.outbox} (aggregate_id, published_at, seq)`,
    );
  } else {
    ddl.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${name}_id ON ${tables.outbox} (id)`,
      `CREATE INDEX IF NOT EXISTS ${name}_unsent ON ${tables.outbox} (seq) WHERE published_at IS NULL`,
      `CREATE INDEX IF NOT EXISTS ${name}_key ON ${tables.outbox} (aggregate_id, seq) WHERE published_at IS NULL`,
      `CREATE INDEX IF NOT EXISTS ${name}_sent ON ${tables.outbox} (published_at) WHERE published_at IS NOT NULL`,
    );
  }
  return ddl;
}
