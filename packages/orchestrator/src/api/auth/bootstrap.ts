import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_ORG, type SecurityStore } from '../../store/security.js';
import { TokenAuthenticator } from './authenticator.js';
import { createToken } from './routes.js';

export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}

/**
 * The server-side key of token hashes: MYRMEX_TOKEN_PEPPER (base64), the file named by
 * MYRMEX_TOKEN_PEPPER_FILE, or one generated once and kept in the database, so every queen on it
 * agrees. Tokens carry 256 random bits, so the pepper is defence in depth, not their only guard.
 */
export async function tokenPepper(security: SecurityStore, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const [source, text] = env.MYRMEX_TOKEN_PEPPER
    ? ['MYRMEX_TOKEN_PEPPER', env.MYRMEX_TOKEN_PEPPER]
    : env.MYRMEX_TOKEN_PEPPER_FILE
      ? [`MYRMEX_TOKEN_PEPPER_FILE (${env.MYRMEX_TOKEN_PEPPER_FILE})`, readFileSync(env.MYRMEX_TOKEN_PEPPER_FILE, 'utf8').trim()]
      : ['the database', await security.setting('token_pepper', () => randomBytes(32).toString('base64'))];
  const pepper = Buffer.from(text, 'base64');
  if (pepper.length < 16) throw new AuthConfigError(`${source}: the token pepper must be at least 16 bytes of base64`);
  return pepper;
}

/**
 * On a database without any token, creates the platform administrator `admin` in the default
 * organisation and returns its first token, to be printed once. Only one of several queens
 * starting at once wins the `bootstrap` setting and creates it.
 */
export async function bootstrapAdmin(security: SecurityStore, pepper: Buffer): Promise<string | undefined> {
  if ((await security.countTokens()) > 0) return undefined;
  const nonce = randomUUID();
  if ((await security.setting('bootstrap', () => nonce)) !== nonce) return undefined;
  if (!(await security.user('admin'))) await security.createUser({ id: 'admin', name: 'admin', platformAdmin: true }, new Date());
  await security.setRole(DEFAULT_ORG, 'admin', 'admin');
  const { plaintext } = await createToken(security, pepper, {
    orgId: DEFAULT_ORG,
    userId: 'admin',
    name: 'bootstrap admin',
    scopes: ['admin'],
  });
  return plaintext;
}

export interface OpenedAuth {
  readonly security: SecurityStore;
  readonly authenticator: TokenAuthenticator;
  readonly pepper: Buffer;
  /** The first admin token, when this start created it: print it once. */
  readonly bootstrapToken?: string;
}

/** Everything `createApi({ auth })` needs, from the queens' security store. */
export async function openAuth(
  security: SecurityStore,
  options: { readonly env?: NodeJS.ProcessEnv; readonly cacheMs?: number; readonly bootstrap?: boolean } = {},
): Promise<OpenedAuth> {
  const pepper = await tokenPepper(security, options.env);
  const authenticator = new TokenAuthenticator(security, pepper, options.cacheMs === undefined ? {} : { cacheMs: options.cacheMs });
  const bootstrapToken = options.bootstrap === false ? undefined : await bootstrapAdmin(security, pepper);
  return { security, authenticator, pepper, ...(bootstrapToken ? { bootstrapToken } : {}) };
}
