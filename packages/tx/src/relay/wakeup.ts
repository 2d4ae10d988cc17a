import type { Logger } from '../manager/manager.js';

interface ListenClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  release(error?: Error | boolean): void;
}
interface ListenPool {
  connect(): Promise<ListenClient>;
}

/**
 * Wakes the relay: on a PostgreSQL NOTIFY from a committing writer, at the poll interval otherwise
 * (a lost LISTEN connection, other dialects, events waiting out their backoff). The LISTEN
 * connection is reopened on the next wait after it broke.
 */
export class Wakeup {
  readonly #pool: ListenPool | undefined;
  readonly #channel: string;
  readonly #logger: Logger;
  #client: ListenClient | undefined;
  #connecting: Promise<void> | undefined;
  #pending = false;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(pool: unknown, channel: string, logger: Logger) {
    this.#pool = pool as ListenPool | undefined;
    this.#channel = channel;
    this.#logger = logger;
  }

  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Opens the LISTEN connection if there is none (PostgreSQL only). */
  async listen(): Promise<void> {
    if (!this.#pool || this.#client || this.#closed) return;
    this.#connecting ??= (async () => {
      try {
        const client = await this.#pool!.connect();
        client.on('notification', () => this.notify());
        client.on('error', (error) => {
          this.#logger.warn('outbox relay: the LISTEN connection failed; polling until it is back', { error: error.message });
          if (this.#client === client) this.#client = undefined;
          client.release(error);
        });
        await client.query(`LISTEN "${this.#channel}"`);
        this.#client = client;
      } catch (error) {
        this.#logger.warn('outbox relay: cannot LISTEN; polling', { error: (error as Error).message });
      } finally {
        this.#connecting = undefined;
      }
    })();
    await this.#connecting;
  }

  notify(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Resolves on a notification (or one that came since the last wait) or after `ms`. */
  async wait(ms: number): Promise<void> {
    await this.listen();
    if (this.#pending || this.#closed) {
      this.#pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
    this.#pending = false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      await client.query(`UNLISTEN "${this.#channel}"`).catch(() => undefined);
      client.release(true);
    }
  }
}
