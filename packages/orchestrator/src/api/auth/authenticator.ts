import type { AntPrincipal } from '../../ant/remote/auth.js';
import { parseToken, TokenFormatError, verifyTokenSecret } from '../../security/index.js';
import { ROLE_SCOPES, type Role, type SecurityStore, type TokenRow } from '../../store/security.js';
import type { Principal } from './principal.js';

export interface AuthenticatorOptions {
  /** How long a token row is trusted before it is read again: the bound on how late a revocation is seen. */
  readonly cacheMs?: number;
  /** last_used_at is written at most this often per token. */
  readonly touchEveryMs?: number;
  readonly now?: () => number;
}

export type AuthFailure = 'malformed' | 'unknown' | 'revoked' | 'expired';

/**
 * Checks presented tokens against the store. Rows are cached for `cacheMs` (default 500 ms) so a
 * busy client costs one read per half second, and a revocation on any queen is seen by every other
 * queen within that time: the store, not this process, is the source of truth.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, { row: TokenRow | undefined; platformAdmin: boolean; role?: Role; until: number }>();
  private readonly touched = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly touchEveryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: SecurityStore,
    private readonly pepper: Buffer,
    options: AuthenticatorOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 500;
    this.touchEveryMs = options.touchEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Drops a token from this process's cache at once (its own revocations). */
  forget(tokenId: string): void {
    this.cache.delete(tokenId);
  }

  async check(presented: string): Promise<Principal | AuthFailure> {
    const verified = await this.verify(presented);
    return typeof verified === 'string' ? verified : verified.principal;
  }

  private async verify(presented: string): Promise<{ principal: Principal; row: TokenRow } | AuthFailure> {
    let parsed: { id: string; secret: string };
    try {
      parsed = parseToken(presented);
    } catch (error) {
      if (error instanceof TokenFormatError) return 'malformed';
      throw error;
    }
    const now = this.now();
    let entry = this.cache.get(parsed.id);
    if (!entry || entry.until <= now) {
      const row = await this.store.token(parsed.id);
      const platformAdmin = row?.userId ? ((await this.store.user(row.userId))?.platformAdmin ?? false) : false;
      const role = row?.userId ? await this.store.role(row.orgId, row.userId) : undefined;
      entry = { row, platformAdmin, ...(role ? { role } : {}), until: now + this.cacheMs };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(parsed.id, entry);
    }
    const row = entry.row;
    if (!row || !verifyTokenSecret(this.pepper, parsed.secret, row.hash)) return 'unknown';
    if (row.revokedAt) return 'revoked';
    if (row.expiresAt && row.expiresAt.getTime() <= now) return 'expired';
    // A user's token can do no more than the user's role in the organisation now allows; a user who
    // left it has tokens that do nothing. Tokens without a user (organisation and ant tokens) keep their scopes.
    let scopes = row.scopes;
    if (row.userId && !entry.platformAdmin) {
      if (!entry.role) return 'revoked';
      const allowed = ROLE_SCOPES[entry.role];
      scopes = scopes.filter((scope) => allowed.includes(scope));
    }
    if ((this.touched.get(row.id) ?? 0) + this.touchEveryMs <= now) {
      this.touched.set(row.id, now);
      void this.store.touchToken(row.id, new Date(now)).catch(() => undefined);
    }
    const principal = {
      tokenId: row.id,
      orgId: row.orgId,
      ...(row.userId ? { userId: row.userId } : {}),
      scopes,
      platformAdmin: entry.platformAdmin,
    };
    return { principal, row };
  }

  /**
   * For the ants' routes: only a valid token with the `ant` scope. The ant serves its token's
   * organisation only, unless the token is shared (then `org` is absent).
   */
  async authenticateAnt(token: string): Promise<AntPrincipal | undefined> {
    const verified = await this.verify(token);
    if (typeof verified === 'string' || !verified.principal.scopes.includes('ant')) return undefined;
    const subject = `token:${verified.row.id}`;
    return verified.row.antShared ? { subject } : { subject, org: verified.row.orgId };
  }
}
