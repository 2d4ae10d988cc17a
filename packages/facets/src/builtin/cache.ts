import { Facet } from '../core/facet.js';
import { objectConfig, positiveInteger, positiveNumber } from './config.js';

export interface CacheOptions {
  /** Most entries kept; the least recently used one is evicted beyond it. Default 1000. */
  readonly maxEntries?: number;
  /** Default time to live in milliseconds; absent means entries do not expire. */
  readonly ttlMs?: number;
  /** Source of time in milliseconds; tests pass a controllable clock. */
  readonly now?: () => number;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses), 0 before the first lookup. */
  readonly hitRate: number;
  readonly size: number;
  readonly evictions: number;
  readonly expirations: number;
}

interface Slot {
  readonly value: unknown;
  readonly expiresAt: number;
}

/**
 * A per-object cache with a TTL and LRU eviction. A Map keeps insertion order, so moving an entry
 * to the end on every hit makes its first key the least recently used one.
 */
export class CacheFacet extends Facet {
  readonly #slots = new Map<unknown, Slot>();
  readonly #maxEntries: number;
  readonly #ttlMs: number | undefined;
  readonly #now: () => number;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;

  constructor(options: CacheOptions = {}) {
    super();
    this.#maxEntries = options.maxEntries === undefined ? 1000 : positiveInteger(options.maxEntries, 'CacheFacet: options.maxEntries');
    this.#ttlMs = options.ttlMs === undefined ? undefined : positiveNumber(options.ttlMs, 'CacheFacet: options.ttlMs');
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('CacheFacet: options.now must be a function');
    this.#now = options.now ?? Date.now;
  }

  static parseConfig(raw: unknown): CacheOptions {
    const config = objectConfig(raw, ['maxEntries', 'ttlMs'], 'cache') as CacheOptions;
    new CacheFacet(config);
    return config;
  }

  /** The cached value, or undefined on a miss (absent or expired). Counts towards the hit rate. */
  get<V = unknown>(key: unknown): V | undefined {
    const slot = this.#live(key);
    if (slot === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.value as V;
  }

  /** Whether a live entry exists; does not count as a lookup or refresh recency. */
  has(key: unknown): boolean {
    return this.#live(key) !== undefined;
  }

  set(key: unknown, value: unknown, ttlMs: number | undefined = this.#ttlMs): void {
    const ttl = ttlMs === undefined ? undefined : positiveNumber(ttlMs, 'CacheFacet.set: ttlMs');
    this.#slots.delete(key);
    this.#slots.set(key, { value, expiresAt: ttl === undefined ? Number.POSITIVE_INFINITY : this.#now() + ttl });
    while (this.#slots.size > this.#maxEntries) {
      this.#slots.delete(this.#slots.keys().next().value);
      this.#evictions++;
    }
  }

  /** Returns the cached value or computes, stores and returns it. */
  getOrCompute<V>(key: unknown, compute: () => V): V {
    const slot = this.#live(key);
    if (slot !== undefined) return this.get<V>(key) as V;
    this.#misses++;
    const value = compute();
    this.set(key, value);
    return value;
  }

  delete(key: unknown): boolean {
    return this.#slots.delete(key);
  }

  clear(): void {
    this.#slots.clear();
  }

  stats(): CacheStats {
    const lookups = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      hitRate: lookups === 0 ? 0 : this.#hits / lookups,
      size: this.#slots.size,
      evictions: this.#evictions,
      expirations: this.#expirations,
    };
  }

  #live(key: unknown): Slot | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.#now()) {
      this.#slots.delete(key);
      this.#expirations++;
      return undefined;
    }
    return slot;
  }
}
