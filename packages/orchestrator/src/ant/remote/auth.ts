import { timingSafeEqual } from 'node:crypto';

/** Who a connecting ant is, as its token says. */
export interface AntPrincipal {
  /** Names the token (its id) in logs; never the secret. */
  readonly subject: string;
  /** When the token is bound to one ant id, the ant must register with exactly that id. */
  readonly antId?: string;
  /** The organisation whose jobs alone the ant may run; absent for a shared ant, which serves every organisation. */
  readonly org?: string;
}

/**
 * The id the queen knows an ant by: the id it names itself, qualified by its organisation when its
 * token is bound to one (`build-7@acme`). Two organisations' ants may then pick the same name, and
 * an ant of one can never speak for, take over or download as an ant of another or a shared one.
 */
export function servedAntId(principal: AntPrincipal, claimed: string): string {
  return principal.org === undefined ? claimed : `${claimed}@${principal.org}`;
}

/**
 * Checks the bearer token of a WebSocket upgrade; undefined refuses it (401). SEC's token store
 * (scope `ant`) provides one; until then `staticAntTokens` does.
 */
export type AuthenticateAnt = (token: string) => Promise<AntPrincipal | undefined>;

/**
 * Tokens from configuration: `MYRMEX_ANT_TOKENS=secret1,build-7=secret2` — a bare token lets an ant
 * register under any id; `antId=token` binds the token to that ant id. Compared in constant time.
 */
export function staticAntTokens(spec: string): AuthenticateAnt {
  const entries = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const eq = part.indexOf('=');
      const antId = eq > 0 ? part.slice(0, eq) : undefined;
      const token = eq > 0 ? part.slice(eq + 1) : part;
      if (token.length < 16) throw new RangeError(`MYRMEX_ANT_TOKENS entry ${index + 1}: a token must be at least 16 characters`);
      return { antId, token: Buffer.from(token), subject: antId === undefined ? `static-token-${index + 1}` : `static-token:${antId}` };
    });
  if (entries.length === 0) throw new RangeError('MYRMEX_ANT_TOKENS: no token given');
  return async (token) => {
    const given = Buffer.from(token);
    for (const entry of entries) {
      if (entry.token.length === given.length && timingSafeEqual(entry.token, given)) {
        return entry.antId === undefined ? { subject: entry.subject } : { subject: entry.subject, antId: entry.antId };
      }
    }
    return undefined;
  };
}

/** `Authorization: Bearer <token>` or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
