import type { Logger } from 'pino';
import type { TimelineEvent } from '../domain/types.js';
import type { StoreLocation } from '../store/open.js';
import type { SqlStore } from '../store/sql/sql-store.js';
import { parseEventsUrl } from './broker.js';
import { type LifecycleRelay, startLifecycleRelay } from './relay.js';
import { lifecycleWriter } from './writer.js';

/**
 * Publishes the queen's job and task transitions to a broker: each transition's event is written to the outbox in
 * the transition's transaction, and a relay (its own process) delivers them at least once, in order per job. Stop
 * it after the queen: what is still in the outbox goes out with the next start.
 */
export async function enableLifecycleEvents(
  store: SqlStore,
  location: StoreLocation,
  events: string,
  logger: Logger,
  traceId?: (transition: TimelineEvent) => string | undefined,
): Promise<{ readonly topic: string; stop(): Promise<void> }> {
  const { topic } = parseEventsUrl(events);
  if (location.kind === 'sqlite' && location.path === ':memory:')
    throw new TypeError('--events needs a store other processes can open: a SQLite file or PostgreSQL, not :memory:');
  await store.opened();
  const relay: LifecycleRelay = await startLifecycleRelay(location, events, logger);
  store.transitionsWriter = lifecycleWriter(location.kind, { topic, ...(traceId ? { traceId } : {}) });
  const unsubscribe = store.onChange(() => relay.wake());
  return {
    topic,
    async stop() {
      unsubscribe();
      store.transitionsWriter = undefined;
      await relay.stop();
    },
  };
}
