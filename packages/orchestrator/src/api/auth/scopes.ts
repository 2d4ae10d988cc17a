import type { TokenScope } from '../../security/index.js';

/**
 * The scope each API route needs, by method and route pattern (the pattern, not the URL, so a job id
 * cannot change the answer). Routes not listed read (GET) or need `admin`: a new route is closed
 * until someone decides otherwise.
 */
export function requiredScope(method: string, route: string): TokenScope {
  if (method === 'GET' || method === 'HEAD') return route.startsWith('/api/tokens') || route.startsWith('/api/audit') ? 'admin' : 'read';
  if (method === 'POST' && (route === '/api/jobs/requests' || route === '/api/jobs/requests/bulk')) return 'submit';
  if (method === 'POST' && route === '/api/dead-letters/:id/redrive') return 'submit';
  if (method === 'POST' && /^\/api\/jobs\/requests\/:id\/(cancel|pause|resume|restart)$/.test(route)) return 'cancel';
  if (method === 'POST' && /\/(approve|reject)$/.test(route)) return 'approve';
  return 'admin';
}

/** Reachable without a token: liveness, the API description, and the dashboard's static files (its data comes from the API). */
export function isPublic(method: string, url: string): boolean {
  const path = url.split('?')[0] ?? url;
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/api/health' || path === '/api/openapi.json') return true;
  return !path.startsWith('/api/') && path !== '/api' && !path.startsWith('/metrics') && !path.startsWith('/ants');
}
