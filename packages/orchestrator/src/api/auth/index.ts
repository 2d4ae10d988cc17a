export { type AuthenticatorOptions, type AuthFailure, TokenAuthenticator } from './authenticator.js';
export { AuthConfigError, bootstrapAdmin, type OpenedAuth, openAuth, tokenPepper } from './bootstrap.js';
export { type OidcOptions, oidcFromEnvironment, oidcRoutes } from './oidc.js';
export { type AuthOptions, installAuth, type RateLimitOptions } from './plugin.js';
export { currentPrincipal, type Principal } from './principal.js';
export { createToken, securityRoutes } from './routes.js';
export { isPublic, requiredScope } from './scopes.js';
export { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, sessionRoutes } from './session.js';
export { tenantQueen } from './tenant-queen.js';
