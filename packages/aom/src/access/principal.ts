/** Who is acting. Roles decide which properties may be read or written and which operations run. */
export interface Principal {
  readonly id?: string;
  readonly roles: readonly string[];
  /** Bypasses every property and operation check; for migrations and administration only. */
  readonly system?: boolean;
}

export const ANONYMOUS: Principal = Object.freeze({ roles: Object.freeze([]) });
export const SYSTEM: Principal = Object.freeze({ id: 'system', roles: Object.freeze([]), system: true });

/** Empty `roles` means unrestricted; otherwise the principal needs one of them. */
export function allowed(principal: Principal, roles: readonly string[]): boolean {
  return principal.system === true || roles.length === 0 || roles.some((role) => principal.roles.includes(role));
}

export function checkPrincipal(value: unknown): Principal {
  const principal = value as Partial<Principal> | null;
  if (typeof principal !== 'object' || principal === null) throw new TypeError('principal must be an object { id?, roles }');
  if (!Array.isArray(principal.roles) || principal.roles.some((role) => typeof role !== 'string')) {
    throw new TypeError('principal.roles must be an array of role names');
  }
  if (principal.id !== undefined && typeof principal.id !== 'string') throw new TypeError('principal.id must be a string');
  if (principal.system !== undefined && typeof principal.system !== 'boolean') throw new TypeError('principal.system must be a boolean');
  return Object.freeze({ ...principal, roles: Object.freeze([...principal.roles]) }) as Principal;
}
