import { AsyncLocalStorage } from 'node:async_hooks';
import type { TokenScope } from '../../security/index.js';

/** Who is calling: the token's id, organisation and scopes. Every request under authentication carries one. */
export interface Principal {
  readonly tokenId: string;
  readonly orgId: string;
  readonly userId?: string;
  readonly scopes: readonly TokenScope[];
  /** May manage organisations and read the whole audit log. */
  readonly platformAdmin: boolean;
}

/**
 * The principal of the request being handled. Route handlers call the queen without the request,
 * so the tenant guard reads the caller from here; it is entered just before the handler runs.
 */
export const currentPrincipal = new AsyncLocalStorage<Principal>();
