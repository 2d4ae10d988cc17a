import { AomDefinitionError, AomNotFoundError } from '../errors.js';
import type { EntityTypeDef, TypeVersionRecord } from '../schema/definition.js';
import { EntityType } from '../schema/entity-type.js';
import { breakingChanges, type CompiledMigration, compileMigration, type MigrationFunction, type Values } from '../schema/evolution.js';
import type { NamedTable } from './strategies.js';

/** The versions a `defineType` call will add: the type itself and each subtype re-resolved against it. */
export interface TypePlan {
  readonly type: EntityType;
  readonly records: readonly TypeVersionRecord[];
  readonly types: readonly EntityType[];
}

/**
 * Every version of every type, resolved. Replacing a version replaces its EntityType instance,
 * and compiled validators and migrations hang off those instances or are keyed by version, so a
 * type change leaves no stale cache behind.
 */
export class TypeCatalog {
  #versions = new Map<string, EntityType[]>();
  readonly #migrations = new Map<string, CompiledMigration>();

  constructor(
    readonly migrations: NamedTable<MigrationFunction>,
    private readonly clock: () => Date,
  ) {}

  load(records: readonly TypeVersionRecord[]): void {
    const byKey = new Map(records.map((record) => [`${record.name}@${record.version}`, record]));
    const resolved = new Map<string, EntityType>();
    const resolve = (name: string, version: number, trail: string[]): EntityType => {
      const key = `${name}@${version}`;
      const done = resolved.get(key);
      if (done) return done;
      const record = byKey.get(key);
      if (!record)
        throw new AomDefinitionError(name, 'version', `the store has no version ${version} (needed by ${trail.join(' <- ') || 'itself'})`);
      if (trail.includes(key)) throw new AomDefinitionError(name, 'extends', `inheritance cycle ${[...trail, key].join(' -> ')}`);
      const parent = record.def.extends === undefined ? undefined : resolve(record.def.extends, record.parentVersion ?? 0, [...trail, key]);
      const type = new EntityType(record, parent);
      resolved.set(key, type);
      return type;
    };
    const versions = new Map<string, EntityType[]>();
    for (const record of [...records].sort((a, b) => a.version - b.version)) {
      const list = versions.get(record.name) ?? [];
      if (record.version !== list.length + 1)
        throw new AomDefinitionError(record.name, 'version', `versions are not contiguous at ${record.version}`);
      list.push(resolve(record.name, record.version, []));
      versions.set(record.name, list);
    }
    this.#versions = versions;
    this.#migrations.clear();
  }

  knows(name: string, version: number): boolean {
    return (this.#versions.get(name)?.length ?? 0) >= version;
  }

  get(name: string, version?: number): EntityType {
    const list = typeof name === 'string' ? this.#versions.get(name) : undefined;
    if (!list) throw new AomNotFoundError('type', String(name));
    if (version === undefined) return list[list.length - 1]!;
    const type = Number.isSafeInteger(version) ? list[version - 1] : undefined;
    if (!type) throw new AomNotFoundError('version', `${name}@${version}`);
    return type;
  }

  currentTypes(): EntityType[] {
    return [...this.#versions.values()].map((list) => list[list.length - 1]!);
  }

  /** Current types that inherit from `name`, at any depth. */
  descendants(name: string): string[] {
    return this.currentTypes()
      .filter((type) => type.name !== name && type.isA(name))
      .map((type) => type.name);
  }

  isA(typeName: string, ancestor: string): boolean {
    const list = this.#versions.get(typeName);
    return list !== undefined && list[list.length - 1]!.isA(ancestor);
  }

  plan(def: EntityTypeDef): TypePlan {
    const fail = (path: string, detail: string): never => {
      throw new AomDefinitionError(def.name, path, detail);
    };
    const previous = this.#versions.get(def.name)?.at(-1);
    const parent = def.extends === undefined ? undefined : this.#versions.get(def.extends)?.at(-1);
    if (def.extends !== undefined && !parent) fail('extends', `no type named ${def.extends}; define the parent first`);
    if (parent?.isA(def.name)) fail('extends', `${def.extends} already inherits from ${def.name}; that would be a cycle`);
    const { migration, ...own } = def;
    if (previous && migration === undefined && canonical(previous.def) === canonical(own) && previous.parent?.version === parent?.version) {
      return { type: previous, records: [], types: [] };
    }
    const record: TypeVersionRecord = {
      name: def.name,
      version: (previous?.version ?? 0) + 1,
      def: own,
      parentVersion: parent?.version ?? null,
      migration: migration ?? [],
      definedAt: this.clock().toISOString(),
    };
    const type = new EntityType(record, parent);
    if (previous) {
      const changes = breakingChanges(previous, type);
      if (changes.length > 0 && migration === undefined)
        fail('migration', `the change is not additive (${changes.join('; ')}); declare a migration`);
      compileMigration(record.migration, previous, type, this.migrations.map);
    }
    const records = [record];
    const types = [type];
    // Subtypes resolved against the new parent version; they inherit its migration steps.
    const replaced = new Map([[type.name, type]]);
    for (let index = 0; index < types.length; index += 1) {
      const changedParent = types[index]!;
      for (const child of this.currentTypes().filter((candidate) => candidate.parent?.name === changedParent.name)) {
        const childRecord: TypeVersionRecord = {
          ...child.record,
          version: child.version + 1,
          parentVersion: changedParent.version,
          migration: record.migration,
          definedAt: record.definedAt,
        };
        const childType = new EntityType(childRecord, replaced.get(changedParent.name));
        compileMigration(childRecord.migration, child, childType, this.migrations.map);
        replaced.set(childType.name, childType);
        records.push(childRecord);
        types.push(childType);
      }
    }
    return { type, records, types };
  }

  commit(plan: TypePlan): void {
    for (const type of plan.types) {
      const list = this.#versions.get(type.name) ?? [];
      if (list.length + 1 !== type.version)
        throw new AomDefinitionError(type.name, 'version', `expected version ${list.length + 1}, got ${type.version}`);
      this.#versions.set(type.name, [...list, type]);
    }
  }

  /** Runs the migrations from `fromVersion` up to the current version, compiling each once. */
  migrate(name: string, fromVersion: number, values: Readonly<Values>): Values {
    const list = this.#versions.get(name);
    if (!list) throw new AomNotFoundError('type', name);
    let current: Values = structuredClone(values) as Values;
    for (let version = fromVersion + 1; version <= list.length; version += 1) {
      const key = `${name}@${version}`;
      let step = this.#migrations.get(key);
      if (!step) {
        const next = list[version - 1]!;
        step = compileMigration(next.record.migration, list[version - 2]!, next, this.migrations.map);
        this.#migrations.set(key, step);
      }
      current = step(current);
    }
    return current;
  }
}

/** JSON with sorted keys, so two definitions that differ only in key order compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
