import type { StoreQuery } from '../query/spec.js';
import type { TypeVersionRecord } from '../schema/definition.js';

/** An entity as stored: the `Entity` and its `Property` values of the type square, as a document. */
export interface EntityRecord {
  readonly id: string;
  readonly type: string;
  /** The version of its type the values were written against. */
  readonly typeVersion: number;
  /** 1 on create, +1 on every write; used for optimistic concurrency. */
  readonly revision: number;
  readonly values: Readonly<Record<string, unknown>>;
}

/** One change of one property's value, written with the entity write that made it. */
export interface HistoryEntry {
  readonly property: string;
  /** The entity's revision the write produced. */
  readonly revision: number;
  /** ISO instant of the write. */
  readonly at: string;
  /** The new value; absent when the write removed the property. */
  readonly value?: unknown;
}

/**
 * The document store contract every adapter passes (test/store-contract.ts). Types and
 * entities each live in one table or collection; queries arrive already checked.
 */
export interface AomStore {
  /** Creates tables and indexes if missing. Idempotent. */
  init(): Promise<void>;
  /** Adds one type version; false if that name and version already exist. */
  saveType(record: TypeVersionRecord): Promise<boolean>;
  /** Every version of every type, in no particular order. */
  loadTypes(): Promise<TypeVersionRecord[]>;
  /** Adds an entity and its history entries atomically; false (and nothing written) if the id is taken. */
  insert(record: EntityRecord, history?: readonly HistoryEntry[]): Promise<boolean>;
  /** Replaces the entity and appends its history entries atomically if it is still at `expectedRevision`; false otherwise. */
  replace(record: EntityRecord, expectedRevision: number, history?: readonly HistoryEntry[]): Promise<boolean>;
  /** Every recorded change of one property of an entity, by revision. */
  history(id: string, property: string): Promise<HistoryEntry[]>;
  load(id: string): Promise<EntityRecord | undefined>;
  /** Deletes the entity and its history if it is still at `expectedRevision`; false otherwise. */
  remove(id: string, expectedRevision: number): Promise<boolean>;
  query(query: StoreQuery): Promise<EntityRecord[]>;
  /** Up to `limit` entities of `type` written against a version below `version`, by id. */
  olderThan(type: string, version: number, limit: number): Promise<EntityRecord[]>;
  close(): Promise<void>;
}
