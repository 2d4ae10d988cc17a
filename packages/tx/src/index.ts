export type { BeginSpec, Driver, QueryResult } from './adapters/driver.js';
export { type MysqlDriverOptions, mysqlDriver } from './adapters/mysql.js';
export { pgDriver } from './adapters/pg.js';
export { type SqliteDriverOptions, sqliteDriver } from './adapters/sqlite.js';
export {
  type AttemptFailure,
  IllegalTransactionStateError,
  InvalidOptionsError,
  OptimisticLockError,
  PoolExhaustedError,
  RetriesExhaustedError,
  TransactionError,
  TransactionOptionsConflictError,
  TransactionTimeoutError,
  UnexpectedRollbackError,
} from './core/errors.js';
export type { CompletionStatus, Synchronization } from './core/hooks.js';
export type { DurationSummary, TransactionMetrics } from './core/metrics.js';
export {
  type ErrorMatcher,
  ISOLATIONS,
  type Isolation,
  PROPAGATIONS,
  type Propagation,
  type ResolvedOptions,
  type RetryPolicy,
  resolveOptions,
  type TxOptions,
} from './core/options.js';
export { type Decision, decide, joinConflicts, type RunningTransaction } from './core/propagation.js';
export { backoffDelay, classifyError, type Dialect, type RetryCause } from './core/retry.js';
export { shouldRollback } from './core/rollback.js';
export { type LockRowsOptions, lockRows } from './locking/lock-rows.js';
export { updateWithVersion, type VersionedUpdate } from './locking/optimistic.js';
export { lockOrder, type RowId } from './locking/order.js';
export {
  setDefaultTransactionManager,
  Transactional,
  type TransactionalDecorator,
  type TransactionalOptions,
} from './manager/decorator.js';
export { type Logger, type ManagerOptions, type TransactionInfo, TransactionManager } from './manager/manager.js';
