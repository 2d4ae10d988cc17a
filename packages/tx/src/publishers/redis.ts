import type { Redis } from 'ioredis';
import { type Destination, type EventEnvelope, encodeEvent, type Publisher, type PublishOutcome } from './publisher.js';

export interface RedisPublisherOptions {
  /** An ioredis client the caller owns. */
  readonly client: Redis;
  /** Stream key per event; default `<prefix><topic>`. */
  readonly stream?: Destination;
  readonly prefix?: string;
  /** How long an event id is remembered to refuse a re-publish. Default 10 minutes; 0 turns deduplication off. */
  readonly dedupWindowMs?: number;
  /** Approximate cap on each stream's length (`XADD MAXLEN ~`). Default none. */
  readonly maxLength?: number;
}

// One round trip, atomic on the server: remember the id (SET NX PX) and append, or report a duplicate.
const APPEND = `
if tonumber(ARGV[3]) > 0 then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return false end
end
if tonumber(ARGV[4]) > 0 then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[1], 'event', ARGV[2])
end
return redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'event', ARGV[2])`;

/**
 * Redis Streams: `XADD` with fields `id` and `event` (the JSON envelope). The reply is the
 * confirmation. A script remembers each id for `dedupWindowMs`, so a re-publish after a relay crash
 * appends nothing, like JetStream's duplicate window (within one Redis, not across a failover).
 */
export function redisPublisher(options: RedisPublisherOptions): Publisher {
  if (!options || typeof options.client?.xadd !== 'function') {
    throw new TypeError('redisPublisher(options): options.client must be an ioredis client');
  }
  const prefix = options.prefix ?? '';
  const stream: Destination = options.stream ?? ((event) => `${prefix}${event.topic}`);
  const window = options.dedupWindowMs ?? 600_000;
  const maxLength = options.maxLength ?? 0;
  if (!(Number.isInteger(window) && window >= 0)) throw new TypeError('redisPublisher(options): dedupWindowMs must be an integer >= 0');
  if (!(Number.isInteger(maxLength) && maxLength >= 0)) throw new TypeError('redisPublisher(options): maxLength must be an integer >= 0');
  return {
    name: 'redis',
    async publish(event: EventEnvelope): Promise<PublishOutcome> {
      const key = stream(event);
      const reply = await options.client.eval(APPEND, 2, key, `${key}:dedup:${event.id}`, event.id, encodeEvent(event), window, maxLength);
      return { duplicate: reply === null };
    },
    async close() {},
  };
}
