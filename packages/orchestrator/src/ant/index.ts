export { EmbeddedAnt, type EmbeddedAntOptions } from './embedded-ant.js';
export { PidLedger } from './pid-ledger.js';
export * from './protocol.js';
export { type AntDetails, type AntLink, AntRegistry, type AntRegistryHooks, slotsOf } from './registry.js';
export * from './remote/index.js';
export { type AttemptOutcome, runAttempt } from './run-attempt.js';
