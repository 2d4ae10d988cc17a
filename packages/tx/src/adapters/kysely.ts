import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  Kysely,
  type KyselyConfig,
  type Driver as KyselyDriver,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { TransactionManager } from '../manager/manager.js';

type AnyManager = TransactionManager<unknown, unknown>;

const OWN_TRANSACTIONS =
  'Kysely transactions would bypass @myrmex/tx: wrap the work in tm.run(() => ...) (or @Transactional) and use the ' +
  'ordinary Kysely instance inside; its queries join the running transaction with Spring propagation';

function checkManager(tm: unknown, where: string): AnyManager {
  const candidate = tm as Partial<AnyManager> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.execute !== 'function' || typeof candidate.db !== 'function')
    throw new TypeError(`${where}: expected a TransactionManager from @myrmex/tx`);
  return tm as AnyManager;
}

/**
 * A Kysely dialect whose every query runs on `tm.db()`: the connection of the transaction the caller
 * is in (REQUIRED, NESTED, REQUIRES_NEW... as `tm.run` decided), or the pool outside one. Kysely's
 * own `transaction()` is refused, because it would open a second, unmanaged transaction.
 */
export function kyselyDialect(tm: TransactionManager<unknown, unknown>): Dialect {
  const manager = checkManager(tm, 'kyselyDialect(tm)');
  const connection: DatabaseConnection = {
    async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
      const result = await manager.execute<R>(compiled.sql, compiled.parameters);
      const write = compiled.query.kind !== 'SelectQueryNode' && compiled.query.kind !== 'RawNode';
      return {
        rows: result.rows,
        ...(write ? { numAffectedRows: BigInt(result.rowCount) } : {}),
        ...(result.insertId !== undefined && write ? { insertId: BigInt(result.insertId) } : {}),
      };
    },
    streamQuery() {
      throw new Error('kyselyDialect: streaming is not supported; page with limit/offset or keyset instead');
    },
  };
  const driver: KyselyDriver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: async () => {
      throw new Error(OWN_TRANSACTIONS);
    },
    commitTransaction: async () => {
      throw new Error(OWN_TRANSACTIONS);
    },
    rollbackTransaction: async () => {
      throw new Error(OWN_TRANSACTIONS);
    },
    releaseConnection: async () => undefined,
    // The manager owns the pool; closing it is tm.close()'s job.
    destroy: async () => undefined,
  };
  const parts: Record<string, [() => DialectAdapter, () => QueryCompiler, (db: Kysely<unknown>) => DatabaseIntrospector]> = {
    postgres: [() => new PostgresAdapter(), () => new PostgresQueryCompiler(), (db) => new PostgresIntrospector(db)],
    mysql: [() => new MysqlAdapter(), () => new MysqlQueryCompiler(), (db) => new MysqlIntrospector(db)],
    sqlite: [() => new SqliteAdapter(), () => new SqliteQueryCompiler(), (db) => new SqliteIntrospector(db)],
  };
  const [adapter, compiler, introspector] = parts[manager.dialect]!;
  return {
    createDriver: () => driver,
    createAdapter: adapter,
    createQueryCompiler: compiler,
    createIntrospector: introspector,
  };
}

/** `new Kysely<DB>({ dialect: kyselyDialect(tm) })`, with the rest of Kysely's config passed through. */
export function createKysely<DB>(tm: TransactionManager<unknown, unknown>, config: Omit<KyselyConfig, 'dialect'> = {}): Kysely<DB> {
  return new Kysely<DB>({ ...config, dialect: kyselyDialect(tm) });
}
