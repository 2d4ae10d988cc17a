import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, verifyChain } from '../../src/index.js';
import { DEFINITION, openSecured, req, type SecuredApi } from './harness.js';

const opened: SecuredApi[] = [];
afterEach(async () => {
  for (const api of opened.splice(0)) await api.close();
});
async function open(options: Parameters<typeof openSecured>[0] = {}): Promise<SecuredApi> {
  const api = await openSecured(options);
  opened.push(api);
  return api;
}

// biome-ignore lint/suspicious/noExplicitAny: a parsed problem document, checked by the assertions
function problem(answer: { status: number; type: string; body: any }, status: number) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.type.startsWith(PROBLEM_CONTENT_TYPE)).toBe(true);
  expect(answer.body).toMatchObject({ status, type: expect.stringMatching(/^urn:myrmex:problem:/), detail: expect.any(String) });
  return answer.body;
}

/** Organisation A (the bootstrap admin's, `default`) with a job type and a job; organisation B with its admin token. */
async function twoOrgs(api: SecuredApi) {
  const admin = api.auth.bootstrapToken as string;
  expect((await req(api, 'POST', '/api/jobs/definitions', admin, DEFINITION('alpha-build'))).status).toBe(201);
  const job = await req(api, 'POST', '/api/jobs/requests', admin, { job_type: 'alpha-build' });
  expect(job.status).toBe(201);
  const reader = await req(api, 'POST', '/api/tokens', admin, { name: 'alpha reader', scopes: ['read'] });
  expect(reader.status).toBe(201);
  const org = await req(api, 'POST', '/api/orgs', admin, { id: 'beta', name: 'Beta' });
  expect(org.status).toBe(201);
  return {
    admin,
    jobId: job.body.id as string,
    readerId: reader.body.id as string,
    reader: reader.body.token as string,
    beta: org.body.token as string,
  };
}

describe('the API with authentication', () => {
  it('asks for a token, names what is wrong with it, and checks the scope of every route', async () => {
    const api = await open();
    const admin = api.auth.bootstrapToken as string;
    expect(admin).toMatch(/^myx_/);
    expect((await req(api, 'GET', '/api/health')).status).toBe(200);
    expect((await req(api, 'GET', '/api/openapi.json')).status).toBe(200);
    problem(await req(api, 'GET', '/api/jobs/requests'), 401);
    expect(problem(await req(api, 'GET', '/api/jobs/requests', 'nonsense'), 401).detail).toMatch(/not a Myrmex token/);
    const forged = `${admin.slice(0, 17)}${'A'.repeat(43)}`;
    expect(problem(await req(api, 'GET', '/api/jobs/requests', forged), 401).detail).toMatch(/not known/);
    expect((await req(api, 'GET', '/api/jobs/requests', admin)).status).toBe(200);

    const read = await req(api, 'POST', '/api/tokens', admin, { name: 'reader', scopes: ['read'] });
    expect(read.status).toBe(201);
    expect(read.body.token).toMatch(/^myx_/);
    expect((await req(api, 'GET', '/api/jobs/requests', read.body.token)).status).toBe(200);
    expect(problem(await req(api, 'POST', '/api/jobs/requests', read.body.token, { job_type: 'x' }), 403).detail).toMatch(/'submit'/);
    expect(problem(await req(api, 'GET', '/api/tokens', read.body.token), 403).detail).toMatch(/'admin'/);
    const ant = await req(api, 'POST', '/api/tokens', admin, { name: 'ant', scopes: ['ant'] });
    problem(await req(api, 'GET', '/api/jobs/requests', ant.body.token), 403);
    expect(await api.auth.authenticator.authenticateAnt(ant.body.token)).toEqual({ subject: `token:${ant.body.id}`, org: 'default' });
    expect(await api.auth.authenticator.authenticateAnt(read.body.token)).toBeUndefined();

    const list = await req(api, 'GET', '/api/tokens', admin);
    expect(list.text).not.toContain(read.body.token.slice(18));
    expect(list.body.items.map((t: { name: string }) => t.name).sort()).toEqual(['ant', 'bootstrap admin', 'reader']);
    expect((await req(api, 'DELETE', `/api/tokens/${read.body.id}`, admin)).status).toBe(204);
    expect(problem(await req(api, 'GET', '/api/jobs/requests', read.body.token), 401).detail).toMatch(/revoked/);
    problem(await req(api, 'DELETE', `/api/tokens/${read.body.id}`, admin), 404);
    const expired = await req(api, 'POST', '/api/tokens', admin, { name: 'short', scopes: ['read'], expires_in_s: 1 });
    problem(expired, 400);
  });

  it("answers 404 for another organisation's job, definition and token on every route of the OpenAPI document", async () => {
    const api = await open();
    const a = await twoOrgs(api);
    const doc = (await req(api, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const hidden = {
      '/api/jobs/definitions/{type}/versions/{version}/graph': ['get'],
      '/api/jobs/requests/{id}/postmortem': ['get'],
    };
    const routes = [
      ...Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => [path, method] as const)),
      ...Object.entries(hidden).flatMap(([path, methods]) => methods.map((method) => [path, method] as const)),
    ];
    expect(routes.length).toBeGreaterThan(15);
    const bodies: Record<string, unknown> = {
      'post /api/jobs/requests': { job_type: 'alpha-build' },
      // B's own type, by a name A does not use: B's 'alpha-build' is the subject of the end of this test.
      'post /api/jobs/definitions': DEFINITION('beta-own'),
      'post /api/tokens': { name: 'b', scopes: ['read'] },
      'post /api/orgs': { id: 'gamma', name: 'Gamma' },
      'put /api/secrets/{name}': { value: 'b-secret-value' },
      'post /api/users': { id: 'bob', role: 'viewer' },
      'put /api/users/{user}/role': { role: 'admin' },
      'post /api/teams': { name: 'b-team' },
      'post /api/jobs/requests/bulk': { requests: [{ job_type: 'alpha-build' }] },
      'put /api/jobs/definitions/{type}/secrets/{name}': { value: 'a value of B' },
      'put /api/consumables/{name}': { capacity: 1 },
    };
    let walked = 0;
    for (const [path, method] of routes) {
      const key = `${method} ${path}`;
      const concrete = (id: string, type: string) =>
        path
          .replace('{id}', id)
          .replace('{type}', type)
          .replace('{version}', '1')
          .replace('{digest}', `sha256:${'0'.repeat(64)}`)
          .replace('{name}', 'SOME_NAME')
          .replace('{user}', 'admin')
          .replace(/\{[a-z_]+\}/g, 'x');
      const body = bodies[`${method} ${path}`] ?? (method === 'post' || method === 'put' ? {} : undefined);
      // An endless event stream: its filtering is the streaming test's subject; here it must open for B.
      if (path === '/api/jobs/events') {
        const controller = new AbortController();
        const opened = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${a.beta}` }, signal: controller.signal });
        expect(opened.status, key).toBe(200);
        controller.abort();
        walked++;
        continue;
      }
      const realId = path.startsWith('/api/tokens') ? a.readerId : a.jobId;
      const answer = await req(api, method.toUpperCase(), concrete(realId, 'alpha-build'), a.beta, body);
      walked++;
      expect(answer.status, `${key}: ${answer.text}`).toBeLessThan(500);
      if (path === '/api/secrets/{name}' && method === 'put') {
        // Secret names are per organisation: B writes its own (refused here only because this queen has no keyring).
        expect(answer.status, key).toBe(409);
      } else if (path === '/api/consumables/{name}') {
        // Pools are the platform's, not an organisation's: B's admin token may not declare one.
        expect(answer.status, key).toBe(403);
      } else if (path.includes('{')) {
        expect(answer.status, `${key} must be 404: ${answer.text}`).toBe(404);
        // Indistinguishable from a name that never existed, once the echoed name is taken out.
        const absent = await req(api, method.toUpperCase(), concrete('absent-id', 'absent-type'), a.beta, body);
        const echo = (text: string, id: string, type: string) => text.replaceAll(id, '<id>').replaceAll(type, '<type>');
        expect(echo(answer.text, realId, 'alpha-build'), key).toBe(echo(absent.text, 'absent-id', 'absent-type'));
      } else {
        // B's admin token is no platform administrator's: creating organisations stays closed to it.
        if (path === '/api/orgs') expect(answer.status, key).toBe(403);
        else expect([401, 403], key).not.toContain(answer.status);
      }
      // Nothing of organisation A's leaks: not its job id, not its type's name, not its token.
      // B's audit rows name the URLs B itself asked for; they must all be B's rows.
      if (path === '/api/audit')
        expect(
          answer.body.items.every((r: { org: string }) => r.org === 'beta'),
          key,
        ).toBe(true);
      else if (!path.includes('{') && path !== '/api/openapi.json') {
        expect(answer.text, key).not.toContain(a.jobId);
        expect(answer.text, key).not.toContain(a.readerId);
        if (!JSON.stringify(body ?? '').includes('alpha-build')) expect(answer.text, key).not.toContain('alpha-build');
      }
    }
    expect(walked).toBe(routes.length);
    expect((await req(api, 'POST', '/api/jobs/requests', a.beta, { job_type: 'alpha-build' })).body.type).toBe(
      'urn:myrmex:problem:unknown-job-type',
    );
    // A's own token still sees its job, and A's token was not revoked by B's DELETE.
    expect((await req(api, 'GET', `/api/jobs/requests/${a.jobId}`, a.reader)).status).toBe(200);
    // B's submission of A's type was refused as unknown, and B sees none of A's jobs.
    expect((await req(api, 'GET', '/api/jobs/requests?count=exact', a.beta)).body.total).toBe(0);
    expect((await req(api, 'GET', '/api/jobs/requests?count=exact', a.admin)).body.total).toBe(1);
    // Job types are named per organisation: B applying A's name makes B's own type, as if A had none.
    const own = await req(api, 'POST', '/api/jobs/definitions', a.beta, DEFINITION('alpha-build'));
    expect(own.status, own.text).toBe(201);
    expect(own.body).toEqual({ job_type: 'alpha-build', version: 1, created: true });
    expect((await req(api, 'GET', '/api/jobs/definitions/alpha-build', a.admin)).body.versions).toHaveLength(1);
    expect((await req(api, 'POST', '/api/jobs/requests', a.beta, { job_type: 'alpha-build' })).status).toBe(201);
    expect((await req(api, 'GET', '/api/jobs/requests?count=exact', a.beta)).body.total).toBe(1);
    expect((await req(api, 'GET', '/api/jobs/requests?count=exact', a.admin)).body.total).toBe(1);
  });

  it('streams only the caller organisation’s transitions', async () => {
    const api = await open();
    const a = await twoOrgs(api);
    expect((await req(api, 'POST', '/api/jobs/definitions', a.beta, DEFINITION('beta-build'))).status).toBe(201);
    const controller = new AbortController();
    const response = await fetch(`${api.url}/api/jobs/events`, {
      headers: { authorization: `Bearer ${a.beta}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    // A's job first, then B's: B's stream must show B's job and never A's.
    const alphaJob = await req(api, 'POST', '/api/jobs/requests', a.admin, { job_type: 'alpha-build' });
    const betaJob = await req(api, 'POST', '/api/jobs/requests', a.beta, { job_type: 'beta-build' });
    let text = '';
    while (!text.includes(betaJob.body.id)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain(betaJob.body.id);
    expect(text).not.toContain(alphaJob.body.id);
    expect(text).not.toContain(a.jobId);
  });

  it('keeps an audit row of every state-changing request, in a chain that verifies', async () => {
    const api = await open();
    const a = await twoOrgs(api);
    await req(api, 'POST', `/api/jobs/requests/${a.jobId}/cancel`, a.beta, {});
    await req(api, 'POST', '/api/jobs/requests', undefined, { job_type: 'alpha-build' });
    const rows = await api.store.security().audit();
    expect(verifyChain(rows)).toMatchObject({ ok: true });
    const actions = rows.map((r) => `${r.org} ${r.action} ${r.outcome}`);
    expect(actions).toContain('default POST /api/jobs/definitions ok');
    expect(actions).toContain('default POST /api/orgs ok');
    expect(actions).toContain('beta POST /api/jobs/requests/:id/cancel failed');
    expect(actions).toContain('- POST /api/jobs/requests denied');
    const mine = await req(api, 'GET', '/api/audit', a.beta);
    expect(mine.body.items.every((r: { org: string }) => r.org === 'beta')).toBe(true);
  });

  it('limits requests per token with a 429 problem, and bodies with a 413 problem', async () => {
    const api = await open({ rateLimit: { max: 5, windowMs: 60_000 } });
    const admin = api.auth.bootstrapToken as string;
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await req(api, 'GET', '/api/jobs/requests', admin));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(problem(answers[5] as never, 429).type).toBe('urn:myrmex:problem:rate-limited');
    expect((await req(api, 'GET', '/api/health')).status).toBe(200);

    const shared = await open({ rateLimit: { max: 100, orgMax: 5, windowMs: 60_000 } });
    const one = shared.auth.bootstrapToken as string;
    const two = (await req(shared, 'POST', '/api/tokens', one, { name: 'two', scopes: ['read'] })).body.token as string;
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await req(shared, 'GET', '/api/jobs/requests', i % 2 ? one : two)).status);
    // The token creation above was the organisation's first request of the window.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(problem(await req(shared, 'GET', '/api/quota', one), 429).detail).toMatch(/organisation default sent more than 5 requests/);

    const roomy = await open();
    const token = roomy.auth.bootstrapToken as string;
    const huge = 'x'.repeat(2 * 1024 * 1024);
    problem(await req(roomy, 'POST', '/api/jobs/requests', token, { job_type: 'a', params: { huge } }), 413);
    problem(await req(roomy, 'POST', '/api/jobs/definitions', token, `job_type: a\n# ${huge}\n`), 413);
  });

  it("refuses a submission over the organisation's quota with a 429 problem", async () => {
    const api = await open();
    const admin = api.auth.bootstrapToken as string;
    const org = await req(api, 'POST', '/api/orgs', admin, { id: 'small', name: 'Small', max_queued: 1, max_jobs: 1 });
    const token = org.body.token as string;
    expect((await req(api, 'POST', '/api/jobs/definitions', token, DEFINITION('small-job'))).status).toBe(201);
    // Scheduled far ahead, so the first job stays queued.
    const later = new Date(Date.now() + 3600_000).toISOString();
    expect((await req(api, 'POST', '/api/jobs/requests', token, { job_type: 'small-job', scheduled_at: later })).status).toBe(201);
    const refused = problem(await req(api, 'POST', '/api/jobs/requests', token, { job_type: 'small-job', scheduled_at: later }), 429);
    expect(refused.type).toBe('urn:myrmex:problem:quota-exceeded');
    expect((await req(api, 'GET', '/api/quota', token)).body).toEqual({ org: 'small', max_jobs: 1, max_queued: 1 });
  });

  it('signs the dashboard in with an HttpOnly, SameSite=Strict cookie and asks cookie requests that change state for the CSRF token', async () => {
    const api = await open();
    const admin = api.auth.bootstrapToken as string;
    expect((await req(api, 'GET', '/api/session')).body).toEqual({ token: true, oidc: false });
    problem(await req(api, 'POST', '/api/session', undefined, { token: 'myx_nope' }), 401);
    const response = await fetch(`${api.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: admin }),
    });
    expect(response.status).toBe(200);
    const cookies = response.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('myx_session=')) as string;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).not.toMatch(/Secure/);
    const csrf = ((await response.json()) as { csrf: string }).csrf;
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');
    expect((await req(api, 'GET', '/api/jobs/requests', undefined, undefined, { cookie: jar })).status).toBe(200);
    const forged = await req(api, 'POST', '/api/jobs/definitions', undefined, DEFINITION('from-elsewhere'), { cookie: jar });
    expect(problem(forged, 403).detail).toMatch(/x-csrf-token/);
    const wrong = await req(api, 'POST', '/api/jobs/definitions', undefined, DEFINITION('from-elsewhere'), {
      cookie: jar,
      'x-csrf-token': 'x',
    });
    problem(wrong, 403);
    const signed = await req(api, 'POST', '/api/jobs/definitions', undefined, DEFINITION('from-dashboard'), {
      cookie: jar,
      'x-csrf-token': csrf,
    });
    expect(signed.status).toBe(201);
  });

  it("cuts every user's token to the user's role, and follows a role change within a second", async () => {
    const api = await open();
    const admin = api.auth.bootstrapToken as string;
    expect((await req(api, 'POST', '/api/users', admin, { id: 'vic', name: 'Vic', role: 'viewer' })).status).toBe(201);
    problem(await req(api, 'POST', '/api/users', admin, { id: 'vic', role: 'viewer' }), 409);
    const tooMuch = problem(await req(api, 'POST', '/api/tokens', admin, { name: 'v', scopes: ['submit'], user_id: 'vic' }), 400);
    expect(tooMuch.detail).toMatch(/a viewer cannot hold submit/);
    problem(await req(api, 'POST', '/api/tokens', admin, { name: 'x', scopes: ['read'], user_id: 'nobody' }), 404);
    expect((await req(api, 'PUT', '/api/users/vic/role', admin, { role: 'operator' })).body).toEqual({
      id: 'vic',
      name: 'Vic',
      role: 'operator',
    });
    const token = (await req(api, 'POST', '/api/tokens', admin, { name: 'v', scopes: ['read', 'submit'], user_id: 'vic' })).body
      .token as string;
    expect((await req(api, 'POST', '/api/jobs/definitions', admin, DEFINITION('by-vic'))).status).toBe(201);
    expect((await req(api, 'POST', '/api/jobs/requests', token, { job_type: 'by-vic' })).status).toBe(201);
    await req(api, 'PUT', '/api/users/vic/role', admin, { role: 'viewer' });
    const demotedAt = Date.now();
    let refused: number | undefined;
    while (refused === undefined && Date.now() - demotedAt < 5000) {
      if ((await req(api, 'POST', '/api/jobs/requests', token, { job_type: 'by-vic' })).status === 403) refused = Date.now() - demotedAt;
    }
    expect(refused).toBeLessThan(1000);
    expect((await req(api, 'GET', '/api/jobs/requests', token)).status).toBe(200);
    // Another organisation's admin cannot adopt an existing user (the platform administrator least of all).
    const beta = (await req(api, 'POST', '/api/orgs', admin, { id: 'beta', name: 'Beta' })).body.token as string;
    expect(problem(await req(api, 'POST', '/api/users', beta, { id: 'admin', role: 'admin' }), 409).detail).toMatch(/taken/);
    problem(await req(api, 'POST', '/api/tokens', beta, { name: 'steal', scopes: ['admin'], user_id: 'admin' }), 404);
    const team = await req(api, 'POST', '/api/teams', admin, { name: 'builders', members: ['vic'] });
    expect(team.status).toBe(201);
    problem(await req(api, 'POST', '/api/teams', admin, { name: 'ghosts', members: ['nobody'] }), 404);
    expect((await req(api, 'GET', '/api/teams', admin)).body.items).toEqual([{ id: team.body.id, name: 'builders', members: ['vic'] }]);
    expect((await req(api, 'GET', '/api/users', admin)).body.items).toEqual([
      { id: 'admin', name: 'admin', role: 'admin' },
      { id: 'vic', name: 'Vic', role: 'viewer' },
    ]);
  });

  it("never replays another organisation's answer for the same Idempotency-Key", async () => {
    const api = await open();
    const a = await twoOrgs(api);
    expect((await req(api, 'POST', '/api/jobs/definitions', a.beta, DEFINITION('beta-build'))).status).toBe(201);
    const key = { 'idempotency-key': 'same-key-123' };
    const first = await req(api, 'POST', '/api/jobs/requests', a.admin, { job_type: 'alpha-build' }, key);
    const second = await req(api, 'POST', '/api/jobs/requests', a.beta, { job_type: 'beta-build' }, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
  });
});
