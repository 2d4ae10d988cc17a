/**
 * The lifecycle relay's own process (started by ./relay.ts): reads the queen's event outbox and publishes to the
 * broker. A process of its own, because on SQLite its short write transactions must never make the queen's
 * process wait synchronously (better-sqlite3 waits for a lock by blocking its thread).
 */
import { TransactionManager } from '@myrmex/tx';
import { Outbox, Relay } from '@myrmex/tx/outbox';
import { connectEventsBroker } from './broker.js';
import { LIFECYCLE_TABLE } from './lifecycle.js';
import type { RelayProcessConfig, ToParent, ToRelay } from './relay.js';

function send(message: ToParent): void {
  process.send?.(message);
}

async function openManager(config: RelayProcessConfig) {
  if (config.store.kind === 'postgres') {
    const [{ default: pg }, { pgDriver }] = await Promise.all([import('pg'), import('@myrmex/tx')]);
    const pool = new pg.Pool({ connectionString: config.store.url, max: 3 });
    pool.on('error', () => undefined);
    return new TransactionManager(pgDriver(pool), { logger: { warn: () => undefined } });
  }
  const [{ default: Database }, { sqliteDriver }] = await Promise.all([import('better-sqlite3'), import('@myrmex/tx')]);
  const path = config.store.path;
  return new TransactionManager(sqliteDriver({ open: () => new Database(path), connections: 2, busyTimeoutMs: 5000 }), {
    logger: { warn: () => undefined },
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as RelayProcessConfig;
  const broker = await connectEventsBroker(config.events);
  const tm = await openManager(config);
  const outbox = new Outbox(tm, { table: LIFECYCLE_TABLE });
  const relay = new Relay(outbox, broker.publisher, {
    // One queen on a SQLite file: its relay is the only one and holds no lock while the broker answers.
    sole: config.store.kind === 'sqlite',
    logger: { warn: (message: string, details?: unknown) => send({ type: 'warn', message, details }) },
  });
  relay.start();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await relay.stop();
    await broker.close().catch(() => undefined);
    await tm.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (message: ToRelay) => {
    if (message.type === 'wake') relay.wake();
    else if (message.type === 'stop') void stop();
  });
  // The queen is gone (killed, or exited without stopping us): delivery resumes with the next queen's relay.
  process.on('disconnect', () => void stop());
  send({ type: 'ready', topic: broker.topic, broker: broker.description });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
