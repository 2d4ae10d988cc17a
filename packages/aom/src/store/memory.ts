import { compareBy, compareScalars, matches } from '../query/match.js';
import type { StoreQuery } from '../query/spec.js';
import type { TypeVersionRecord } from '../schema/definition.js';
import type { AomStore, EntityRecord, HistoryEntry } from './store.js';

/** Keeps everything in process; copies on the way in and out, as a real store would. */
export class MemoryAomStore implements AomStore {
  readonly #types = new Map<string, TypeVersionRecord>();
  readonly #entities = new Map<string, EntityRecord>();
  readonly #history = new Map<string, HistoryEntry[]>();

  async init(): Promise<void> {}

  async saveType(record: TypeVersionRecord): Promise<boolean> {
    const key = `${record.name}@${record.version}`;
    if (this.#types.has(key)) return false;
    this.#types.set(key, structuredClone(record));
    return true;
  }

  async loadTypes(): Promise<TypeVersionRecord[]> {
    return [...this.#types.values()].map((record) => structuredClone(record));
  }

  async insert(record: EntityRecord, history: readonly HistoryEntry[] = []): Promise<boolean> {
    if (this.#entities.has(record.id)) return false;
    this.#entities.set(record.id, structuredClone(record));
    this.#history.set(record.id, structuredClone([...history]));
    return true;
  }

  async replace(record: EntityRecord, expectedRevision: number, history: readonly HistoryEntry[] = []): Promise<boolean> {
    if (this.#entities.get(record.id)?.revision !== expectedRevision) return false;
    this.#entities.set(record.id, structuredClone(record));
    this.#history.get(record.id)?.push(...structuredClone([...history]));
    return true;
  }

  async history(id: string, property: string): Promise<HistoryEntry[]> {
    return structuredClone((this.#history.get(id) ?? []).filter((entry) => entry.property === property));
  }

  async load(id: string): Promise<EntityRecord | undefined> {
    const record = this.#entities.get(id);
    return record && structuredClone(record);
  }

  async remove(id: string, expectedRevision: number): Promise<boolean> {
    if (this.#entities.get(id)?.revision !== expectedRevision) return false;
    this.#history.delete(id);
    return this.#entities.delete(id);
  }

  async query(query: StoreQuery): Promise<EntityRecord[]> {
    const types = new Set(query.types);
    const found = [...this.#entities.values()].filter(
      (record) =>
        types.has(record.type) &&
        (query.after === undefined || compareScalars(record.id, query.after) > 0) &&
        matches(record.values, query.conditions),
    );
    found.sort(compareBy(query.orderBy));
    return found.slice(0, query.limit ?? found.length).map((record) => structuredClone(record));
  }

  async olderThan(type: string, version: number, limit: number): Promise<EntityRecord[]> {
    return [...this.#entities.values()]
      .filter((record) => record.type === type && record.typeVersion < version)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map((record) => structuredClone(record));
  }

  async close(): Promise<void> {}
}
