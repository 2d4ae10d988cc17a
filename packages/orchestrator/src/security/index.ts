export * from './audit-chain.js';
export * from './masking.js';
export * from './quotas.js';
export * from './runtime.js';
export * from './secrets.js';
export * from './task-env.js';
export * from './tokens.js';
