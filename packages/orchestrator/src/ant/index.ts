export { EmbeddedAnt, type EmbeddedAntOptions } from './embedded-ant.js';
export { PidLedger } from './pid-ledger.js';
export * from './protocol.js';
export { AntRegistry, type AntRegistryHooks } from './registry.js';
