import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { StoreError } from './store.js';

export type StoreLocation = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/**
 * Reads a store value as users write it (`--db`, `MYRMEX_DB`): a SQLite file path, `sqlite:<path>`,
 * `:memory:`, or `postgres://…`/`postgresql://…`. Anything that looks like a URL of another kind is
 * an error naming what is accepted: it must never become a surprise file named after its scheme.
 */
export function parseStoreUrl(value: string, field = 'db'): StoreLocation {
  if (typeof value !== 'string' || value.trim() === '')
    throw new StoreError(`${field} must be a SQLite file path or a postgres:// URL, got an empty value`);
  const text = value.trim();
  if (text === ':memory:') return { kind: 'sqlite', path: text };
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'sqlite', path: text };
  if (scheme === 'sqlite') {
    const path = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new StoreError(`${field}: 'sqlite:' needs a file path after it, e.g. sqlite:./.myrmex/myrmex.db`);
    return { kind: 'sqlite', path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new StoreError(`${field}: '${text}' is not a valid PostgreSQL URL; write postgres://user@host:5432/database`);
    }
    if (!text.slice(scheme.length + 1).startsWith('//') || url.hostname === '') {
      throw new StoreError(`${field}: '${text}' names no host; write postgres://user@host:5432/database`);
    }
    if (url.pathname === '' || url.pathname === '/') {
      throw new StoreError(`${field}: '${text}' names no database; write postgres://user@host:5432/database`);
    }
    return { kind: 'postgres', url: text };
  }
  throw new StoreError(
    `${field}: '${scheme}:' stores are not supported; use a SQLite file path (default ./.myrmex/myrmex.db), sqlite:<path> or postgres://user@host:5432/database`,
  );
}

/**
 * Opens the store a location names without waiting: its schema is migrated in the background and
 * every operation (and `opened()`, which `Queen.open` awaits) waits for it.
 */
export function openStoreSync(location: StoreLocation | string): SqliteStore | PostgresStore {
  const where = typeof location === 'string' ? parseStoreUrl(location) : location;
  return where.kind === 'sqlite' ? SqliteStore.open({ path: where.path }) : PostgresStore.open({ url: where.url });
}

/** Opens the store a location names and waits for its schema, so a bad URL or server fails here. */
export async function openStore(location: StoreLocation | string): Promise<SqliteStore | PostgresStore> {
  const store = openStoreSync(location);
  try {
    await store.opened();
  } catch (error) {
    await store.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(`could not open the store ${store.description}: ${reason}`);
  }
  return store;
}
