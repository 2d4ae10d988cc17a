import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error oidc-provider ships no types; the test uses its documented constructor only.
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, openAuth, Queen, SqliteStore } from '../../src/index.js';

/** A cookie jar per origin, enough for a redirect dance between two local servers. */
class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const cookies = [...(this.jar.get(origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookies ? { cookie: cookies } : {}) },
    });
    const jar = this.jar.get(origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq);
      const value = (pair as string).slice(eq + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.jar.set(origin, jar);
    return response;
  }

  /** Follows redirects until a page answers or `stop` says so. */
  async follow(url: string, stop: (url: string) => boolean = () => false): Promise<{ url: string; response: Response }> {
    let current = url;
    for (let hops = 0; hops < 20; hops++) {
      if (stop(current)) return { url: current, response: await this.get(current) };
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { url: current, response };
      current = new URL(location, current).href;
    }
    throw new Error('too many redirects');
  }

  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(origin)?.get(name);
  }
}

let provider: Server;
let issuer: string;
let queenUrl: string;
let closeAll: () => Promise<void>;

beforeAll(async () => {
  provider = createServer();
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;

  const dir = mkdtempSync(join(tmpdir(), 'myrmex-oidc-'));
  const store = SqliteStore.open({ path: join(dir, 'q.db') });
  await store.opened();
  const queen = await Queen.open({ store, ant: { capacity: 1 } });
  await queen.start();
  const auth = await openAuth(store.security(), { env: {} });
  // The provider must know the queen's callback URL before the queen listens: a free port is reserved first.
  const placeholder = createServer();
  await new Promise<void>((resolve) => placeholder.listen(0, '127.0.0.1', resolve));
  const port = (placeholder.address() as AddressInfo).port;
  await new Promise<void>((resolve) => placeholder.close(() => resolve()));
  queenUrl = `http://127.0.0.1:${port}`;
  const redirectUrl = `${queenUrl}/api/oidc/callback`;

  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: 'myrmex',
        client_secret: 'a-long-test-client-secret',
        redirect_uris: [redirectUrl],
        grant_types: ['authorization_code'],
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub, preferred_username: sub }) }),
  });
  provider.on('request', oidc.callback());

  const app = await createApi(queen, {
    auth: { ...auth, oidc: { issuer, clientId: 'myrmex', clientSecret: 'a-long-test-client-secret', redirectUrl, allowInsecure: true } },
  });
  await app.listen({ host: '127.0.0.1', port });
  await auth.security.createUser({ id: 'vic', name: 'Vic' }, new Date());
  await auth.security.setRole('default', 'vic', 'viewer');
  closeAll = async () => {
    await app.close();
    await queen.stop();
    await new Promise<void>((resolve) => provider.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
});
afterAll(async () => closeAll?.());

/** Signs in at the provider's development login and consent pages as `login`; returns where the queen sent the browser. */
async function signIn(browser: Browser, login: string): Promise<Response> {
  let step = await browser.follow(`${queenUrl}/api/oidc/login`);
  for (let round = 0; round < 4 && step.url.includes('/interaction/'); round++) {
    const page = await step.response.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt: prompt ?? 'consent' });
    const posted = await browser.get(step.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    step = await browser.follow(new URL(posted.headers.get('location') as string, step.url).href, (url) =>
      url.startsWith(`${queenUrl}/api/oidc/callback`),
    );
  }
  expect(step.url.startsWith(`${queenUrl}/api/oidc/callback`), step.url).toBe(true);
  return step.response;
}

describe('dashboard sign-in through a real local OpenID provider (oidc-provider)', () => {
  it("signs a member in with a session limited to the member's role", async () => {
    const ways = await fetch(`${queenUrl}/api/session`);
    expect(await ways.json()).toEqual({ token: true, oidc: true, login_url: '/api/oidc/login' });
    const browser = new Browser();
    const callback = await signIn(browser, 'vic');
    expect(callback.status, await callback.clone().text()).toBe(302);
    expect(callback.headers.get('location')).toBe('/');
    const session = browser.cookie(queenUrl, 'myx_session') as string;
    expect(session).toMatch(/^myx_/);
    const jobs = await fetch(`${queenUrl}/api/jobs/requests`, { headers: { cookie: `myx_session=${session}` } });
    expect(jobs.status).toBe(200);
    // A viewer's session cannot change anything, CSRF token or not.
    const csrf = browser.cookie(queenUrl, 'myx_csrf') as string;
    const write = await fetch(`${queenUrl}/api/tokens`, {
      method: 'POST',
      headers: { cookie: `myx_session=${session}; myx_csrf=${csrf}`, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', scopes: ['read'] }),
    });
    expect(write.status).toBe(403);
  });

  it('refuses a provider user who is no member here, and a callback without a sign-in in progress', async () => {
    const refused = await signIn(new Browser(), 'mallory');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/'mallory' .* no member/);
    const forged = await fetch(`${queenUrl}/api/oidc/callback?code=x&state=y`);
    expect(forged.status).toBe(401);
  });
});
