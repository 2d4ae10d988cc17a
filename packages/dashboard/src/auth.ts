import { EventSource } from 'eventsource';

/**
 * The API token the dashboard sends (`Authorization: Bearer`), kept in this browser's localStorage
 * until the user signs out. A queen with authentication off needs none. Event streams go through
 * the same fetch, since the browser's own EventSource cannot send a header.
 */
const KEY = 'myrmex-token';
const listeners = new Set<() => void>();
let rejected = false;

export const token = (): string | undefined => localStorage.getItem(KEY) ?? undefined;

export function setToken(value: string | undefined): void {
  if (value) localStorage.setItem(KEY, value);
  else localStorage.removeItem(KEY);
  rejected = false;
  for (const listener of listeners) listener();
}

/** Whether the queen refused the current token (or the lack of one) since it was last set. */
export const needsToken = (): boolean => rejected;

/** Calls `listener` when a token is set or refused; returns the unsubscribe. */
export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function authFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const current = token();
  if (current) headers.set('authorization', `Bearer ${current}`);
  const response = await fetch(input, { ...init, headers });
  if (response.status === 401 && !rejected) {
    rejected = true;
    for (const listener of listeners) listener();
  }
  return response;
}

/** A WHATWG EventSource whose requests carry the token. */
export function openEvents(url: string): EventSource {
  return new EventSource(url, { fetch: (input, init) => authFetch(input, init as RequestInit) });
}
