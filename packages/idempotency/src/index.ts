export { type Begin, type BeginRequest, IdempotencyEngine } from './core/engine.js';
export { canonicalJson, canonicalNumber, type FingerprintInput, type FingerprintMode, fingerprint, scopeOf } from './core/fingerprint.js';
export { IdempotentCallError, type IdempotentOptions, idempotent } from './core/idempotent.js';
export { MAX_KEY_LENGTH, type ParsedKey, parseIdempotencyKey, serializeKey } from './core/key.js';
export { Lease, type Settlement } from './core/lease.js';
export { consoleLogger, type IdempotencyLogger, type IdempotencyMetrics } from './core/metrics.js';
export type { EngineOptions, KeyScope, ResolvedOptions } from './core/options.js';
export {
  DEFAULT_REPLAY_HEADERS,
  defaultShouldStore,
  FORBIDDEN_REPLAY_HEADERS,
  type ResponseInput,
  type StorePredicate,
} from './core/policy.js';
export {
  DEFAULT_PROBLEM_BASE,
  IdempotencyError,
  IdempotencyProblem,
  LeaseExpiredError,
  PROBLEMS,
  PrincipalMissingError,
  type ProblemDocument,
  type ProblemKind,
  StaleLeaseError,
  StoreUnavailableError,
} from './core/problem.js';
export { type Sweeper, type SweeperOptions, startSweeper } from './core/sweeper.js';
export type { ClaimRequest, ClaimResult, CompleteRequest, IdempotencyStore, KeyRecord, StoredResponse } from './core/types.js';
export { stepKey, taskKey } from './core/workflow.js';
export { jsonResponse } from './http/json.js';
export { idempotencyOf, type Protected } from './http/tracking.js';
export { CachedStore, type CachedStoreOptions } from './stores/cached.js';
export { MemoryStore } from './stores/memory.js';
