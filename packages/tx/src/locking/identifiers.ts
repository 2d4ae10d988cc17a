const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Table and column names are spliced into SQL, so only plain identifiers (optionally schema-qualified) pass. */
export function checkIdentifier(value: unknown, field: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new TypeError(`${field} must be a plain SQL identifier like accounts or public.accounts, got ${JSON.stringify(value)}`);
  }
  return value;
}
