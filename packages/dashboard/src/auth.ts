/**
 * Signing the dashboard in: the token is exchanged once for the queen's session cookie (HttpOnly,
 * so page scripts never hold it again), which the browser then sends on every request and event
 * stream. Requests that change state echo the readable CSRF cookie in X-CSRF-Token. A queen with
 * authentication off needs none of it.
 */
const CSRF_COOKIE = 'myx_csrf';
const listeners = new Set<() => void>();
let rejected = false;

// Typed without the DOM library: the test project, which has none, compiles this module through api.ts.
const cookies = (): string => (globalThis as { document?: { cookie: string } }).document?.cookie ?? '';

const csrf = (): string | undefined => {
  const found = cookies()
    .split('; ')
    .find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : undefined;
};

const changed = () => {
  for (const listener of listeners) listener();
};

/** Whether this browser holds a session (its CSRF cookie is there). */
export const signedIn = (): boolean => csrf() !== undefined;

/** Whether the queen refused a request for want of a valid session since the last sign-in. */
export const needsSignIn = (): boolean => rejected;

/** Calls `listener` when the sign-in state changes; returns the unsubscribe. */
export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function authFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const method = (init.method ?? 'GET').toUpperCase();
  const token = csrf();
  if (token && method !== 'GET' && method !== 'HEAD') headers.set('x-csrf-token', token);
  const response = await fetch(input, { ...init, headers });
  if (response.status === 401 && !rejected) {
    rejected = true;
    changed();
  }
  return response;
}

/** Exchanges `token` for a session; the problem's detail when the queen refuses it. */
export async function signIn(token: string): Promise<string | undefined> {
  const response = await fetch('api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    return problem.detail ?? response.statusText;
  }
  rejected = false;
  changed();
  return undefined;
}

export async function signOut(): Promise<void> {
  await fetch('api/session', { method: 'DELETE' });
  rejected = true;
  changed();
}
