import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ANONYMOUS, allowed, checkPrincipal, type Principal, SYSTEM } from '../access/principal.js';
import { AomAccessError, AomConflictError, AomDefinitionError, type AomIssue, AomNotFoundError, AomValidationError } from '../errors.js';
import { compileQuery, conditionProperties, DEFAULT_FIND_LIMIT, encodeCursor, type FindQuery } from '../query/spec.js';
import type { TypeBuilder } from '../schema/builder.js';
import { checkDefinition, checkMigration } from '../schema/check-definition.js';
import type { EntityTypeDef, MigrationStep } from '../schema/definition.js';
import type { EntityType } from '../schema/entity-type.js';
import { compileMigration, type MigrationFunction, type Values } from '../schema/evolution.js';
import { MemoryAomStore } from '../store/memory.js';
import type { AomStore, EntityRecord, HistoryEntry } from '../store/store.js';
import { Entity, type SensitiveRead } from './entity.js';
import { normalizeValues, setOwn } from './normalize.js';
import { NamedTable, type Strategy } from './strategies.js';
import { TypeCatalog } from './type-catalog.js';

export interface AomRegistryOptions {
  /** Where types and entities live; in memory by default. */
  readonly store?: AomStore;
  /** Id for new entities; random UUIDs by default. */
  readonly newId?: () => string;
  readonly clock?: () => Date;
  /** Called for every read of a sensitive property, after it is recorded in the entity's AuditFacet. */
  readonly onSensitiveRead?: (read: SensitiveRead) => void;
}

export interface WriteOptions {
  /** Refuse the write with AomConflictError unless the entity is still at this revision. */
  readonly expectedRevision?: number;
}

/** State shared by a registry and every `as(principal)` view of it. */
interface Core {
  readonly store: AomStore;
  readonly catalog: TypeCatalog;
  readonly strategies: NamedTable<Strategy>;
  readonly newId: () => string;
  readonly onSensitiveRead: ((read: SensitiveRead) => void) | undefined;
  /** The tail of the queue of `defineType` calls. */
  defining: Promise<unknown>;
}

const RETRIES = 5;
const MAX_ID = 200;

/**
 * The adaptive object model's facade: types defined as data at run time, entities validated
 * against them, stored as documents, migrated as the types evolve. Each method acts as the
 * registry's principal (anonymous unless made with `as`).
 */
export class AomRegistry {
  readonly #core: Core;
  readonly principal: Principal;

  private constructor(core: Core, principal: Principal) {
    this.#core = core;
    this.principal = principal;
  }

  /** Opens the store (creating its tables) and loads every type version from it. */
  static async open(options: AomRegistryOptions = {}): Promise<AomRegistry> {
    checkOptions(options);
    const store = options.store ?? new MemoryAomStore();
    await store.init();
    const migrations = new NamedTable<MigrationFunction>('migration strategy');
    const catalog = new TypeCatalog(migrations, options.clock ?? (() => new Date()));
    catalog.load(await store.loadTypes());
    const core: Core = {
      store,
      catalog,
      strategies: new NamedTable<Strategy>('strategy'),
      newId: options.newId ?? randomUUID,
      onSensitiveRead: options.onSensitiveRead,
      defining: Promise.resolve(),
    };
    return new AomRegistry(core, ANONYMOUS);
  }

  /** The same registry acting as `principal`. */
  as(principal: Principal): AomRegistry {
    return new AomRegistry(this.#core, checkPrincipal(principal));
  }

  /** The same registry with every access check bypassed (migrations, administration). */
  asSystem(): AomRegistry {
    return new AomRegistry(this.#core, SYSTEM);
  }

  /** Operations written in code, bound to types by name (`operations: { ship: { strategy: 'ship' } }`). */
  get strategies(): NamedTable<Strategy> {
    return this.#core.strategies;
  }

  /** Migration steps written in code (`{ op: 'strategy', name }`); register before defining the type. */
  get migrations(): NamedTable<MigrationFunction> {
    return this.#core.catalog.migrations;
  }

  /**
   * Defines a type or a new version of it. Identical redefinitions return the current version;
   * a change that is not additive needs `migration`. Subtypes get a new version too, so their
   * compiled validators are rebuilt against the new parent.
   */
  defineType(definition: EntityTypeDef | TypeBuilder): Promise<EntityType> {
    // One definition at a time per registry: a plan is made against the current versions.
    const next = this.#core.defining.then(() => this.#define(definition));
    this.#core.defining = next.catch(() => undefined);
    return next;
  }

  async #define(definition: EntityTypeDef | TypeBuilder): Promise<EntityType> {
    const def = isBuilder(definition) ? definition.build() : checkDefinition(definition);
    const planned = this.#core.catalog.plan(def);
    if (planned.records.length === 0) return planned.type;
    for (const record of planned.records) {
      if (!(await this.#core.store.saveType(record))) {
        await this.reload();
        throw new AomDefinitionError(
          record.name,
          'version',
          `version ${record.version} was defined concurrently elsewhere; reloaded, retry`,
        );
      }
    }
    this.#core.catalog.commit(planned);
    return planned.type;
  }

  /** Re-reads every type version from the store (after another process changed types). */
  async reload(): Promise<void> {
    this.#core.catalog.load(await this.#core.store.loadTypes());
  }

  /** The current version of a type, or a given one; old versions stay readable. */
  type(name: string, version?: number): EntityType {
    return this.#core.catalog.get(name, version);
  }

  /** Current versions of every type. */
  types(): EntityType[] {
    return this.#core.catalog.currentTypes();
  }

  async create(typeName: string, values: Readonly<Record<string, unknown>>, options: { id?: string } = {}): Promise<Entity> {
    const type = this.type(typeName);
    const id = options.id ?? this.#core.newId();
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID)
      throw new TypeError(`id must be a string of 1 to ${MAX_ID} characters`);
    // Issues name the id only when the caller chose it; a generated one means nothing to them yet.
    const named = options.id ?? null;
    const input = normalizeValues(values, type.name, named);
    if (type.abstract) {
      throw new AomValidationError([issue(type, named, '*', null, 'abstract', `${type.name} is abstract; create one of its subtypes`)]);
    }
    this.#checkWrite(type, named, Object.keys(input));
    for (const property of type.properties.values()) {
      if (property.default !== undefined && !property.computed && !Object.hasOwn(input, property.name)) {
        setOwn(input, property.name, structuredClone(property.default));
      }
    }
    await this.#validate(type, named, input);
    const record: EntityRecord = { id, type: type.name, typeVersion: type.version, revision: 1, values: input };
    if (!(await this.#core.store.insert(record, historyOf(undefined, record))))
      throw new AomValidationError([issue(type, id, 'id', id, 'unique', `id ${id} is already taken`)]);
    return this.#entity(record, type);
  }

  /** Loads an entity, migrating it to its type's current version first if it is older. */
  async get(id: string): Promise<Entity> {
    const { record, type } = await this.#load(id);
    return this.#entity(record, type);
  }

  /**
   * Applies a patch (null removes a property) and validates the result. Without
   * `expectedRevision` a concurrent write is retried on the fresh entity.
   */
  async update(id: string, patch: Readonly<Record<string, unknown>>, options: WriteOptions = {}): Promise<Entity> {
    checkRevision(options);
    for (let attempt = 0; ; attempt += 1) {
      const { record, type } = await this.#load(id);
      if (options.expectedRevision !== undefined && record.revision !== options.expectedRevision)
        throw new AomConflictError(id, options.expectedRevision);
      const changes = normalizeValues(patch, type.name, id, true);
      this.#checkWrite(type, id, Object.keys(changes));
      const values: Values = { ...record.values };
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) delete values[name];
        else setOwn(values, name, value);
      }
      await this.#validate(type, id, values);
      const next: EntityRecord = { ...record, revision: record.revision + 1, values };
      if (await this.#core.store.replace(next, record.revision, historyOf(record, next))) return this.#entity(next, type);
      if (options.expectedRevision !== undefined || attempt >= RETRIES) throw new AomConflictError(id, record.revision);
    }
  }

  /**
   * Moves an entity to another type, keeping its id. `migration` (the steps of `defineType`:
   * rename, set, remove, strategy) maps its values first; the new type's defaults fill what is
   * absent. Refused, with every issue, when the result breaks the new type, and while an entity
   * references it through a property whose target the new type is not.
   */
  async changeType(id: string, typeName: string, options: WriteOptions & { migration?: readonly MigrationStep[] } = {}): Promise<Entity> {
    checkRevision(options);
    const target = this.type(typeName);
    const steps = options.migration === undefined ? [] : checkMigration(options.migration, target.name);
    if (target.abstract) {
      throw new AomValidationError([issue(target, id, '*', null, 'abstract', `${target.name} is abstract; change to one of its subtypes`)]);
    }
    for (let attempt = 0; ; attempt += 1) {
      const { record, type } = await this.#load(id);
      if (options.expectedRevision !== undefined && record.revision !== options.expectedRevision)
        throw new AomConflictError(id, options.expectedRevision);
      // Compiled per attempt: the source type is the entity's, which a racing changeType may have moved.
      const values = compileMigration(steps, type, target, this.#core.catalog.migrations.map)(record.values);
      this.#checkWrite(type, id, Object.keys(record.values));
      this.#checkWrite(target, id, Object.keys(values));
      await this.#validate(target, id, values);
      const stranded = await this.#referrers(type, id, 1, (to) => !target.isA(to));
      if (stranded.length > 0) {
        const [by] = stranded;
        throw new AomValidationError([
          issue(
            target,
            id,
            '*',
            id,
            'referenced',
            `${by!.type} ${by!.id}.${by!.property} refers to ${type.name} ${id}, and a ${target.name} is not what it may refer to`,
          ),
        ]);
      }
      const next: EntityRecord = { id, type: target.name, typeVersion: target.version, revision: record.revision + 1, values };
      if (await this.#core.store.replace(next, record.revision, historyOf(record, next))) return this.#entity(next, target);
      if (options.expectedRevision !== undefined || attempt >= RETRIES) throw new AomConflictError(id, record.revision);
    }
  }

  /**
   * Every change of one property's value, oldest first: `{ property, revision, at, value }`, with
   * `value` absent where a write removed it. Creates, updates, changes of type and migrations each
   * record what they changed, in the same write. Needs read access to the property (a sensitive
   * one records an audited read), as the entity's current type declares it.
   */
  async history(id: string, property: string): Promise<HistoryEntry[]> {
    const entity = await this.get(id);
    if (!entity.type.property(property)) throw new AomNotFoundError('property', `${entity.type.name}.${property}`);
    // Throws AomAccessError without read access and audits a sensitive read, like any other read of the value.
    entity.get(property);
    return this.#core.store.history(id, property);
  }

  /** Deletes an entity; refused while another entity references it. */
  async delete(id: string, options: WriteOptions = {}): Promise<void> {
    checkRevision(options);
    for (let attempt = 0; ; attempt += 1) {
      const { record, type } = await this.#load(id);
      if (options.expectedRevision !== undefined && record.revision !== options.expectedRevision)
        throw new AomConflictError(id, options.expectedRevision);
      this.#checkWrite(type, id, Object.keys(record.values));
      const referrers = await this.#referrers(type, id, 1);
      if (referrers.length > 0) {
        const [by] = referrers;
        throw new AomValidationError([
          issue(
            type,
            id,
            '*',
            id,
            'referenced',
            `${type.name} ${id} is referenced by ${by!.type} ${by!.id}.${by!.property} and cannot be deleted`,
          ),
        ]);
      }
      if (await this.#core.store.remove(id, record.revision)) return;
      if (options.expectedRevision !== undefined || attempt >= RETRIES) throw new AomConflictError(id, record.revision);
    }
  }

  /**
   * Entities of a type and its subtypes matching the query, at most `limit` (default
   * `DEFAULT_FIND_LIMIT`). Filtering and sorting run in the store on the stored documents;
   * results are migrated to the current version afterwards. `findPage` says whether more follow.
   */
  async find(typeName: string, query: FindQuery = {}): Promise<Entity[]> {
    return (await this.findPage(typeName, query)).items;
  }

  /**
   * One page of `find`: `nextCursor` is set when more entities match; pass it back as `cursor`
   * (with the same `where`) for the next page. Pages are in id order, so an entity created
   * between pages appears in a later page when its id sorts after the cursor.
   */
  async findPage(typeName: string, query: FindQuery = {}): Promise<{ items: Entity[]; nextCursor?: string }> {
    const type = this.type(typeName);
    const compiled = compileQuery(type, this.#core.catalog.descendants(type.name), query);
    const read = new Set([...conditionProperties(compiled.conditions), ...compiled.orderBy.map((o) => o.property)]);
    for (const name of read) {
      const property = type.property(name)!;
      if (!allowed(this.principal, property.readRoles)) throw new AomAccessError(type.name, null, name, 'query', property.readRoles);
    }
    const limit = compiled.limit ?? DEFAULT_FIND_LIMIT;
    // One more than the page tells whether another page follows without a count.
    const records = await this.#core.store.query({ ...compiled, limit: limit + 1 });
    const more = records.length > limit;
    const entities: Entity[] = [];
    const sensitive = [...read].filter((name) => type.property(name)!.sensitive);
    for (const found of records.slice(0, limit)) {
      const { record, type: current } = await this.#upgrade(found);
      const entity = this.#entity(record, current);
      // Matching or ordering by a sensitive property reveals it, so each result records an audited read of it.
      for (const name of sensitive) entity.get(name);
      entities.push(entity);
    }
    // A sorted page has no cursor: its next page would need the sort keys, not just the last id.
    if (!more || compiled.orderBy.length > 0) return { items: entities };
    return { items: entities, nextCursor: encodeCursor(type.name, records[limit - 1]!.id) };
  }

  /** The entities a reference property of `id` points to. */
  async related(id: string, property: string): Promise<Entity[]> {
    const entity = await this.get(id);
    const spec = entity.type.property(property);
    if (spec?.kind !== 'reference') throw new AomNotFoundError('property', `${entity.type.name}.${property} (not a reference)`);
    const value = entity.get(property);
    const ids = value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [value as string];
    return Promise.all(ids.map((target) => this.get(target)));
  }

  /** Every reference to `id` from other entities: `{ type, id, property }`. */
  async referrers(id: string): Promise<{ type: string; id: string; property: string }[]> {
    const { type } = await this.#load(id);
    return this.#referrers(type, id, undefined);
  }

  /**
   * Runs a named operation: a strategy registered in code, or an expression over the
   * properties. The principal needs the operation's roles and read access to what it reads.
   */
  async run(id: string, operation: string, ...args: unknown[]): Promise<unknown> {
    const entity = await this.get(id);
    const op = entity.type.operations.get(operation);
    if (!op) throw new AomNotFoundError('operation', `${entity.type.name}.${operation}`);
    const roles = op.def.roles ?? [];
    if (!allowed(this.principal, roles)) throw new AomAccessError(entity.type.name, id, operation, 'run', roles);
    if (op.expression) {
      const values: Values = {};
      for (const name of op.expression.identifiers) {
        const value = entity.get(name);
        if (value !== undefined) values[name] = value;
      }
      return op.expression.evaluate(values);
    }
    const name = 'strategy' in op.def ? op.def.strategy : '';
    const strategy = this.#core.strategies.get(name);
    if (!strategy) throw new AomNotFoundError('strategy', `${name} (bound to ${entity.type.name}.${operation})`);
    return strategy({ entity, registry: this, args });
  }

  /** Migrates every stored entity of a type (or of all types) to the current version now. */
  async migrateAll(typeName?: string, options: { batchSize?: number } = {}): Promise<number> {
    const batch = options.batchSize ?? 500;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new TypeError('batchSize must be a positive integer');
    const seen = new Set<string>();
    for (const type of typeName === undefined ? this.types() : [this.type(typeName)]) {
      for (;;) {
        const stale = await this.#core.store.olderThan(type.name, type.version, batch);
        if (stale.length === 0) break;
        // An entity that comes back after its upgrade lost every race; stop rather than spin.
        const again = stale.find((record) => seen.has(record.id));
        if (again) throw new AomConflictError(again.id, again.revision);
        for (const record of stale) {
          seen.add(record.id);
          await this.#upgrade(record);
        }
      }
    }
    return seen.size;
  }

  async close(): Promise<void> {
    await this.#core.store.close();
  }

  #entity(record: EntityRecord, type: EntityType): Entity {
    return new Entity(record, type, this.principal, this.#core.onSensitiveRead);
  }

  async #load(id: string): Promise<{ record: EntityRecord; type: EntityType }> {
    if (typeof id !== 'string') throw new TypeError('id must be a string');
    const record = await this.#core.store.load(id);
    if (!record) throw new AomNotFoundError('entity', id);
    return this.#upgrade(record);
  }

  /** Lazy migration: brings an old record to the current version and writes it back. */
  async #upgrade(record: EntityRecord): Promise<{ record: EntityRecord; type: EntityType }> {
    const catalog = this.#core.catalog;
    if (!catalog.knows(record.type, record.typeVersion)) await this.reload();
    let current = record;
    for (let attempt = 0; ; attempt += 1) {
      const type = catalog.get(current.type);
      if (current.typeVersion === type.version) return { record: current, type };
      const values = catalog.migrate(current.type, current.typeVersion, current.values);
      const next: EntityRecord = { ...current, typeVersion: type.version, revision: current.revision + 1, values };
      // After repeated races the migrated view is returned unsaved; the next load migrates again.
      if (attempt >= RETRIES || (await this.#core.store.replace(next, current.revision, historyOf(current, next))))
        return { record: next, type };
      const fresh = await this.#core.store.load(current.id);
      if (!fresh) throw new AomNotFoundError('entity', current.id);
      current = fresh;
    }
  }

  #checkWrite(type: EntityType, id: string | null, names: readonly string[]): void {
    for (const name of names) {
      const property = type.property(name);
      if (property && !allowed(this.principal, property.writeRoles))
        throw new AomAccessError(type.name, id, name, 'write', property.writeRoles);
    }
  }

  /** Runs the compiled validator, then checks that every reference names an entity of the right type. */
  async #validate(type: EntityType, id: string | null, values: Values): Promise<void> {
    const { issues, references } = type.validator(values, id);
    for (const ref of references) {
      const target = await this.#core.store.load(ref.id);
      if (!target)
        issues.push(
          issue(type, id, ref.property, ref.id, 'reference', `${type.name}.${ref.property} refers to ${ref.id}, which does not exist`),
        );
      else if (!this.#core.catalog.isA(target.type, ref.to)) {
        issues.push(
          issue(
            type,
            id,
            ref.property,
            ref.id,
            'reference',
            `${type.name}.${ref.property} must refer to a ${ref.to}, but ${ref.id} is a ${target.type}`,
          ),
        );
      }
    }
    if (issues.length > 0) throw new AomValidationError(issues);
  }

  /** References to `id` of `type`; `keep` narrows them to links whose target type it accepts. */
  async #referrers(
    type: EntityType,
    id: string,
    limit: number | undefined,
    keep: (to: string) => boolean = () => true,
  ): Promise<{ type: string; id: string; property: string }[]> {
    const found: { type: string; id: string; property: string }[] = [];
    for (const owner of this.types()) {
      for (const property of owner.properties.values()) {
        const { spec } = property;
        const link = spec.type === 'reference' ? spec : spec.type === 'list' && spec.of.type === 'reference' ? spec.of : undefined;
        if (property.declaredBy !== owner.name || !link || !type.isA(link.to) || !keep(link.to)) continue;
        const compiled = compileQuery(owner, this.#core.catalog.descendants(owner.name), {
          where: { [property.name]: property.many || spec.type === 'list' ? { contains: id } : id },
          ...(limit === undefined ? {} : { limit }),
        });
        for (const record of await this.#core.store.query(compiled))
          found.push({ type: record.type, id: record.id, property: property.name });
        if (limit !== undefined && found.length >= limit) return found;
      }
    }
    return found;
  }
}

const STORE_METHODS = [
  'init',
  'saveType',
  'loadTypes',
  'insert',
  'replace',
  'history',
  'load',
  'remove',
  'query',
  'olderThan',
  'close',
] as const;

/** The properties a write changed, as history entries of the revision it produces. */
function historyOf(before: EntityRecord | undefined, after: EntityRecord): HistoryEntry[] {
  const at = new Date().toISOString();
  const old = before?.values ?? {};
  const entries: HistoryEntry[] = [];
  for (const [property, value] of Object.entries(after.values))
    if (!Object.hasOwn(old, property) || !isDeepStrictEqual(old[property], value))
      entries.push({ property, revision: after.revision, at, value });
  for (const property of Object.keys(old))
    if (!Object.hasOwn(after.values, property)) entries.push({ property, revision: after.revision, at });
  return entries;
}

function checkOptions(options: AomRegistryOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('AomRegistry.open: options must be an object');
  const { store, newId, clock, onSensitiveRead } = options;
  if (store !== undefined) {
    const missing = STORE_METHODS.filter((method) => typeof (store as unknown as Record<string, unknown>)?.[method] !== 'function');
    if (missing.length > 0) throw new TypeError(`AomRegistry.open: options.store is not an AomStore (missing ${missing.join(', ')})`);
  }
  for (const [name, value] of Object.entries({ newId, clock, onSensitiveRead })) {
    if (value !== undefined && typeof value !== 'function') throw new TypeError(`AomRegistry.open: options.${name} must be a function`);
  }
}

function checkRevision(options: WriteOptions): void {
  const revision = options?.expectedRevision;
  if (revision !== undefined && (!Number.isSafeInteger(revision) || revision < 1)) {
    throw new TypeError('options.expectedRevision must be a positive integer');
  }
}

function isBuilder(value: unknown): value is TypeBuilder {
  return typeof value === 'object' && value !== null && typeof (value as { build?: unknown }).build === 'function';
}

function issue(type: EntityType, entityId: string | null, property: string, value: unknown, constraint: string, message: string): AomIssue {
  return { entityType: type.name, entityId, property, value, constraint, message };
}
