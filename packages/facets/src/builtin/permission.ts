import { FacetError } from '../core/errors.js';
import { Facet } from '../core/facet.js';
import { AuditFacet } from './audit.js';
import { objectConfig, stringList } from './config.js';

export interface PermissionOptions {
  /** Roles the owner holds. */
  readonly roles?: readonly string[];
  /** Permissions each role grants. `*` grants everything; `account:*` grants every `account:...` permission. */
  readonly grants?: Readonly<Record<string, readonly string[]>>;
}

export class PermissionDeniedError extends FacetError {
  override name = 'PermissionDeniedError';
  constructor(
    readonly permission: string,
    readonly roles: readonly string[],
  ) {
    super(`permission '${permission}' denied (roles: ${roles.length === 0 ? 'none' : roles.join(', ')})`);
  }
}

function assertPermission(permission: unknown, method: string): asserts permission is string {
  if (typeof permission !== 'string' || permission.length === 0)
    throw new TypeError(`PermissionFacet.${method}: permission must be a non-empty string`);
}

function matches(pattern: string, permission: string): boolean {
  if (pattern === '*' || pattern === permission) return true;
  return pattern.endsWith(':*') && permission.startsWith(pattern.slice(0, -1));
}

/**
 * Role-based permissions, denied by default: a permission is allowed only when a held role or an
 * explicit grant matches it and no explicit denial does. A denied `check` is recorded in the
 * owner's AuditFacet when one is attached.
 */
export class PermissionFacet extends Facet {
  readonly #roles: Set<string>;
  readonly #grants: ReadonlyMap<string, readonly string[]>;
  readonly #allowed = new Set<string>();
  readonly #denied = new Set<string>();

  constructor(options: PermissionOptions = {}) {
    super();
    this.#roles = new Set(stringList(options.roles ?? [], 'PermissionFacet: options.roles'));
    const grants = options.grants ?? {};
    if (grants === null || typeof grants !== 'object')
      throw new TypeError('PermissionFacet: options.grants must be a mapping of role to permissions');
    this.#grants = new Map(
      Object.entries(grants).map(([role, list]) => [role, stringList(list, `PermissionFacet: options.grants.${role}`)]),
    );
  }

  static parseConfig(raw: unknown): PermissionOptions {
    const config = objectConfig(raw, ['roles', 'grants'], 'permission');
    return new PermissionFacet(config as PermissionOptions).toJSON();
  }

  static fromJSON(data: unknown): PermissionFacet {
    if (data === null || typeof data !== 'object') throw new TypeError('PermissionFacet.fromJSON: data must be an object');
    const { roles, grants, allowed, denied } = data as Record<string, unknown>;
    const facet = new PermissionFacet({ roles: roles as string[], grants: grants as Record<string, string[]> });
    for (const permission of stringList(allowed ?? [], 'PermissionFacet.fromJSON: data.allowed')) facet.grant(permission);
    for (const permission of stringList(denied ?? [], 'PermissionFacet.fromJSON: data.denied')) facet.deny(permission);
    return facet;
  }

  get roles(): readonly string[] {
    return [...this.#roles];
  }

  addRole(role: string): void {
    stringList([role], 'PermissionFacet.addRole: role');
    this.#roles.add(role);
  }

  removeRole(role: string): boolean {
    return this.#roles.delete(role);
  }

  /** Grants one permission to this owner, whatever its roles. */
  grant(permission: string): void {
    assertPermission(permission, 'grant');
    this.#denied.delete(permission);
    this.#allowed.add(permission);
  }

  /** Denies one permission; a denial beats every grant. */
  deny(permission: string): void {
    assertPermission(permission, 'deny');
    this.#allowed.delete(permission);
    this.#denied.add(permission);
  }

  can(permission: string): boolean {
    assertPermission(permission, 'can');
    if ([...this.#denied].some((pattern) => matches(pattern, permission))) return false;
    if ([...this.#allowed].some((pattern) => matches(pattern, permission))) return true;
    return [...this.#roles].some((role) => (this.#grants.get(role) ?? []).some((pattern) => matches(pattern, permission)));
  }

  /** Throws PermissionDeniedError unless `can(permission)`. */
  check(permission: string): void {
    if (this.can(permission)) return;
    if (this.attached) this.faceted.get(AuditFacet)?.record('permission.denied', { permission, roles: this.roles });
    throw new PermissionDeniedError(permission, this.roles);
  }

  toJSON(): Required<PermissionOptions> & { allowed: string[]; denied: string[] } {
    return {
      roles: this.roles,
      grants: Object.fromEntries([...this.#grants].map(([role, list]) => [role, [...list]])),
      allowed: [...this.#allowed],
      denied: [...this.#denied],
    };
  }
}
