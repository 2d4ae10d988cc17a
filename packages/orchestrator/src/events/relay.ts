import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { StoreLocation } from '../store/open.js';
import { parseEventsUrl } from './broker.js';

export interface RelayProcessConfig {
  readonly store: StoreLocation;
  readonly events: string;
}
export type ToRelay = { readonly type: 'wake' } | { readonly type: 'stop' };
export type ToParent =
  | { readonly type: 'ready'; readonly topic: string; readonly broker: string }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'warn'; readonly message: string; readonly details?: unknown };

/** The running relay of a queen's lifecycle events. */
export interface LifecycleRelay {
  /** Where events go (subject, exchange, stream key or topic). */
  readonly topic: string;
  /** Something committed in this process: look at the outbox now rather than at the next poll. */
  wake(): void;
  stop(): Promise<void>;
}

/** Runs the relay module: its JavaScript from a build, its TypeScript through tsx when running from the sources. */
function forkRelay(config: RelayProcessConfig): ChildProcess {
  const here = import.meta.url;
  const fromSources = here.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSources ? './relay-process.ts' : './relay-process.js', here));
  return fork(entry, [JSON.stringify(config)], {
    execArgv: fromSources ? ['--conditions=source', '--import', 'tsx'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * Starts delivering the lifecycle events the queen writes (see ./writer.ts) to the broker `events` names, in a
 * process of its own; resolves once it is connected, rejects naming the broker when it cannot be.
 */
export async function startLifecycleRelay(store: StoreLocation, events: string, logger: Logger): Promise<LifecycleRelay> {
  parseEventsUrl(events);
  const child = forkRelay({ store, events });
  let stopped = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ topic: string; broker: string }>((resolve, reject) => {
    child.on('message', (message: ToParent) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'failed') reject(new Error(`--events: cannot publish lifecycle events: ${message.message}`));
      else logger.warn({ details: message.details }, message.message);
    });
    child.once('exit', (code) => {
      reject(new Error(`--events: the lifecycle relay exited (code ${String(code)}) before it was ready`));
      if (!stopped) logger.error({ code }, 'lifecycle events relay exited; events wait in the outbox for the next start');
    });
  });
  logger.info({ broker: ready.broker, topic: ready.topic }, `lifecycle events to ${ready.broker} (${ready.topic})`);
  return {
    topic: ready.topic,
    wake() {
      if (child.connected) child.send({ type: 'wake' } satisfies ToRelay);
    },
    async stop() {
      stopped = true;
      if (child.exitCode === null && child.connected) child.send({ type: 'stop' } satisfies ToRelay);
      else if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}
