import { Facet } from '../core/facet.js';
import { objectConfig } from './config.js';

export interface AuditEntry {
  /** 1, 2, 3, ... in the order entries were recorded; never reused. */
  readonly seq: number;
  /** ISO-8601 time of recording. */
  readonly at: string;
  readonly action: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditOptions {
  /** Source of time; tests pass a fixed clock. */
  readonly clock?: () => Date;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function makeEntry(seq: number, at: string, action: string, details: unknown): AuditEntry {
  return deepFreeze({ seq, at, action, details: structuredClone(details) as Record<string, unknown> });
}

/**
 * An append-only audit trail. Entries are deep-frozen copies of what was recorded, so neither the
 * caller nor a reader can rewrite history, and there is no method that removes one.
 */
export class AuditFacet extends Facet {
  readonly #entries: AuditEntry[] = [];
  readonly #clock: () => Date;

  constructor(options: AuditOptions = {}) {
    super();
    if (options.clock !== undefined && typeof options.clock !== 'function')
      throw new TypeError('AuditFacet: options.clock must be a function');
    this.#clock = options.clock ?? (() => new Date());
  }

  static parseConfig(raw: unknown): AuditOptions {
    objectConfig(raw, [], 'audit');
    return {};
  }

  /** Restores a trail written by `toJSON`, checking that it is a gap-free sequence. */
  static fromJSON(data: unknown): AuditFacet {
    const entries = (data as { entries?: unknown } | null)?.entries;
    if (!Array.isArray(entries)) throw new TypeError('AuditFacet.fromJSON: data.entries must be an array');
    const facet = new AuditFacet();
    entries.forEach((raw: unknown, index) => {
      const entry = (raw ?? {}) as Partial<AuditEntry>;
      const field = `data.entries[${index}]`;
      if (entry.seq !== index + 1) throw new TypeError(`AuditFacet.fromJSON: ${field}.seq must be ${index + 1}`);
      if (typeof entry.at !== 'string' || Number.isNaN(Date.parse(entry.at)))
        throw new TypeError(`AuditFacet.fromJSON: ${field}.at must be an ISO date`);
      if (typeof entry.action !== 'string' || entry.action.length === 0)
        throw new TypeError(`AuditFacet.fromJSON: ${field}.action must be a non-empty string`);
      if (entry.details === null || typeof entry.details !== 'object')
        throw new TypeError(`AuditFacet.fromJSON: ${field}.details must be an object`);
      facet.#entries.push(makeEntry(entry.seq, entry.at, entry.action, entry.details));
    });
    return facet;
  }

  /** Appends an entry; `details` is copied (structured clone), so later changes by the caller do not leak in. */
  record(action: string, details: Readonly<Record<string, unknown>> = {}): AuditEntry {
    if (typeof action !== 'string' || action.length === 0) throw new TypeError('AuditFacet.record: action must be a non-empty string');
    if (details === null || typeof details !== 'object' || Array.isArray(details)) {
      throw new TypeError('AuditFacet.record: details must be an object');
    }
    const entry = makeEntry(this.#entries.length + 1, this.#clock().toISOString(), action, details);
    this.#entries.push(entry);
    return entry;
  }

  /** Every entry in order, optionally only those of one action. */
  entries(action?: string): readonly AuditEntry[] {
    return Object.freeze(action === undefined ? [...this.#entries] : this.#entries.filter((entry) => entry.action === action));
  }

  /** The last `count` entries, oldest first. */
  recent(count: number): readonly AuditEntry[] {
    if (!Number.isSafeInteger(count) || count < 0) throw new TypeError('AuditFacet.recent: count must be a non-negative integer');
    return Object.freeze(count === 0 ? [] : this.#entries.slice(-count));
  }

  get size(): number {
    return this.#entries.length;
  }

  toJSON(): { entries: readonly AuditEntry[] } {
    return { entries: this.entries() };
  }
}
