export type { EventEnvelope, Publisher, PublishOutcome } from '../publishers/publisher.js';
export { decodeEvent, encodeEvent } from '../publishers/publisher.js';
export { type BatchResult, Relay, type RelayOptions, type RelayStats } from '../relay/relay.js';
export type { NewEvent } from './event.js';
export { notifyChannel, Outbox, type OutboxOptions } from './outbox.js';
export { type OutboxTables, outboxDdl, outboxTables } from './schema.js';
export { type OutboxStatement, type OutboxTarget, outboxStatements, prepareEvents } from './statements.js';
