import { AuditFacet, type FacetedObject, Facets } from '@myrmex/facets';
import { allowed, type Principal } from '../access/principal.js';
import { AomAccessError, AomNotFoundError } from '../errors.js';
import type { EntityType, PropertyType } from '../schema/entity-type.js';
import type { EntityRecord } from '../store/store.js';

/** A property value with its metadata: the `Property` corner of the type square. */
export interface Property {
  readonly name: string;
  readonly type: PropertyType;
  readonly value: unknown;
}

/** What is recorded when a sensitive property is read. */
export interface SensitiveRead {
  readonly entityType: string;
  readonly entityId: string;
  readonly property: string;
  readonly principal: string | null;
  readonly roles: readonly string[];
}

/**
 * An instance of an entity type as one principal sees it: the `Entity` corner of the type
 * square. It is a snapshot taken at `revision`; reads are checked against the principal's roles,
 * and reads of sensitive properties are recorded in the AuditFacet attached to this entity
 * (`Facets.of(entity)`), which is also where callers attach facets of their own.
 */
export class Entity {
  readonly id: string;
  readonly type: EntityType;
  readonly revision: number;
  readonly #values: Readonly<Record<string, unknown>>;
  readonly #principal: Principal;
  readonly #onSensitiveRead: ((read: SensitiveRead) => void) | undefined;
  #visible: Readonly<Record<string, unknown>> | undefined;

  constructor(record: EntityRecord, type: EntityType, principal: Principal, onSensitiveRead?: (read: SensitiveRead) => void) {
    this.id = record.id;
    this.type = type;
    this.revision = record.revision;
    // The registry hands over records nobody else holds (fresh from the store or built for this write), so freezing is enough.
    this.#values = deepFreeze(record.values);
    this.#principal = principal;
    this.#onSensitiveRead = onSensitiveRead;
  }

  /** The version of the type these values conform to. */
  get version(): number {
    return this.type.version;
  }

  /** The faceted wrapper of this entity. */
  get facets(): FacetedObject<Entity> {
    return Facets.of(this);
  }

  /** Stored values the principal may read, without sensitive ones (read those with `get`). Frozen. */
  get values(): Readonly<Record<string, unknown>> {
    this.#visible ??= Object.freeze(
      Object.fromEntries(
        Object.entries(this.#values).filter(([name]) => {
          const property = this.type.property(name);
          return property !== undefined && !property.sensitive && allowed(this.#principal, property.readRoles);
        }),
      ),
    );
    return this.#visible;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#values, name);
  }

  /**
   * One property's value (computed ones are evaluated), or undefined when absent. Throws
   * AomAccessError when the principal may not read it, or may not read what it is computed from.
   * Reading a sensitive property, or a computed one that reads a sensitive property, is audited.
   */
  get(name: string): unknown {
    const property = this.#readable(name);
    if (property.computed) {
      const inputs = [...property.computed.identifiers].map((input) => this.#readable(input));
      // A value computed from a sensitive one reveals it, so reading it is audited as reading its sensitive inputs.
      for (const input of inputs) if (input.sensitive) this.#audit(input.name);
      return property.computed.evaluate(this.#values) ?? undefined;
    }
    if (property.sensitive) this.#audit(name);
    return Object.hasOwn(this.#values, name) ? this.#values[name] : undefined;
  }

  /** Present, readable, non-sensitive stored properties with their metadata. */
  properties(): Property[] {
    return Object.entries(this.values).map(([name, value]) => ({ name, type: this.type.property(name)!, value }));
  }

  toJSON(): { id: string; type: string; version: number; revision: number; values: Readonly<Record<string, unknown>> } {
    return { id: this.id, type: this.type.name, version: this.version, revision: this.revision, values: this.values };
  }

  #readable(name: string): PropertyType {
    const property = typeof name === 'string' ? this.type.property(name) : undefined;
    if (!property) throw new AomNotFoundError('property', `${this.type.name}.${String(name)}`);
    if (!allowed(this.#principal, property.readRoles)) throw new AomAccessError(this.type.name, this.id, name, 'read', property.readRoles);
    return property;
  }

  #audit(property: string): void {
    const faceted = Facets.of(this as Entity);
    const trail = faceted.get(AuditFacet) ?? faceted.attach(AuditFacet);
    const read: SensitiveRead = {
      entityType: this.type.name,
      entityId: this.id,
      property,
      principal: this.#principal.id ?? null,
      roles: [...this.#principal.roles],
    };
    trail.record('read-sensitive', { ...read });
    this.#onSensitiveRead?.(read);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
