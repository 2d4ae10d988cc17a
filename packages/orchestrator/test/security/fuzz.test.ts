import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../src/index.js';
import { DEFINITION, openSecured, type SecuredApi } from './harness.js';

/** Runs per property; MYRMEX_FUZZ_SCALE=10 for a longer hunt outside CI. */
const SCALE = Number(process.env.MYRMEX_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

let api: SecuredApi;
let admin: string;
let jobId: string;

beforeAll(async () => {
  api = await openSecured();
  admin = api.auth.bootstrapToken as string;
  await send('POST', '/api/jobs/definitions', DEFINITION('fuzzed'), { 'content-type': 'application/yaml' });
  jobId = JSON.parse((await send('POST', '/api/jobs/requests', JSON.stringify({ job_type: 'fuzzed' }))).text).id;
});
afterAll(async () => api.close());

async function send(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** Never a 5xx; every error a problem document. */
function expectClean(answer: { status: number; type: string; text: string }, what: string) {
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status >= 400) {
    expect(answer.type.startsWith(PROBLEM_CONTENT_TYPE), what).toBe(true);
    expect(JSON.parse(answer.text), what).toMatchObject({ status: answer.status, detail: expect.any(String) });
  }
}

const POSTS = [
  '/api/jobs/requests',
  `/api/jobs/requests/{id}/cancel`,
  `/api/jobs/requests/{id}/pause`,
  `/api/jobs/requests/{id}/resume`,
  `/api/jobs/requests/{id}/restart`,
  `/api/jobs/requests/{id}/tasks/a/approve`,
  `/api/jobs/requests/{id}/tasks/a/reject`,
  '/api/tokens',
  '/api/orgs',
  '/api/session',
];
const GETS = [
  '/api/jobs/requests',
  `/api/jobs/requests/{id}/logs`,
  `/api/jobs/requests/{id}/events`,
  '/api/audit',
  '/api/jobs/definitions',
];

describe('hostile input to the API', () => {
  it('answers any JSON body on every POST route with a 2xx or a 4xx problem, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS), fc.jsonValue({ maxDepth: 6 }), async (route, body) => {
        const path = route.replace('{id}', jobId);
        expectClean(await send('POST', path, JSON.stringify(body)), `POST ${path} ${JSON.stringify(body).slice(0, 200)}`);
      }),
      { numRuns: runs(50) },
    );
  });

  it('answers malformed bodies, hostile query strings and headers with 4xx problems', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POSTS),
        fc.uint8Array({ maxLength: 512 }),
        fc.string({ maxLength: 200 }),
        async (route, bytes, header) => {
          const path = route.replace('{id}', jobId);
          const safeHeader = header.replace(/[^\t\x20-\x7e]/g, '');
          expectClean(await send('POST', path, bytes, { 'idempotency-key': safeHeader || 'k' }), `POST ${path} bytes`);
          expectClean(await send('POST', path, '{}', { 'content-type': safeHeader || 'x/y' }), `POST ${path} type ${safeHeader}`);
        },
      ),
      { numRuns: runs(25) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...GETS),
        fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 50 }), { maxKeys: 4 }),
        async (route, query) => {
          // Never follow: a stream stays open by design.
          const search = new URLSearchParams({ ...query, follow: 'false' }).toString();
          const path = `${route.replace('{id}', jobId)}?${search}`;
          expectClean(await send('GET', path), `GET ${path}`);
        },
      ),
      { numRuns: runs(40) },
    );
    for (const authorization of ['Bearer', 'Bearer ' + 'x'.repeat(8000), 'Basic Zm9vOmJhcg==', 'Bearer myx_\u0000', 'bearer  myx_a_b']) {
      const response = await fetch(`${api.url}/api/jobs/requests`, { headers: { authorization } }).catch(() => undefined);
      if (response) expect(response.status, authorization.slice(0, 30)).toBeGreaterThanOrEqual(400);
      if (response) expect(response.status).toBeLessThan(500);
    }
  });

  it('refuses hostile definitions (YAML bombs, deep nesting, huge strings, binary) with 4xx problems, in bounded time and memory', async () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      laughs.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const hostile = [
      `job_type: bomb\n${laughs.join('\n')}\ntasks: []\n`,
      `job_type: deep\ntasks: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
      `job_type: deep2\nx: ${'{a: '.repeat(5_000)}1${'}'.repeat(5_000)}\ntasks: []\n`,
      `job_type: huge\ntasks:\n  - task_type: ${'a'.repeat(900_000)}\n    method: SHELL\n    script: ["true"]\n`,
      `job_type: "${'\\u0000'.repeat(1000)}"\ntasks: []\n`,
      '%YAML 1.2\n---\n!!binary |\n  R0lGODlhDAAMAIQAAP//9/X17unp5WZmZgAAAOfn515eXvPz7Y6OjuDg4J+fn5\n',
      'job_type: merge\nbase: &b {<<: *b}\ntasks: []\n',
      `{"job_type": "json", "tasks": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    ];
    const before = process.memoryUsage().rss;
    for (const source of hostile) {
      expectClean(await send('POST', '/api/jobs/definitions', source, { 'content-type': 'application/yaml' }), source.slice(0, 40));
    }
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        const answer = await send('POST', '/api/jobs/definitions', bytes, { 'content-type': 'application/yaml' });
        expectClean(answer, 'binary definition');
        expect(answer.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: runs(30) },
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
  });
});
