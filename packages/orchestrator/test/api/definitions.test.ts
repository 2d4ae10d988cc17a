import { describe, expect, it } from 'vitest';
import type { DefinitionDetailWire, JobSummaryWire } from '../../src/index.js';
import { apiPerTest, apply, call, expectProblem } from './harness.js';

const HELLO = `job_type: hello
description: says hello
tasks:
  - task_type: greet
    script:
      - echo hello
`;

describe('definitions API', () => {
  const api = apiPerTest();

  it('applies YAML as version 1, an identical text as no new version, a changed one as version 2', async () => {
    const first = await call(api.current, 'POST', '/api/jobs/definitions', HELLO, 'text/yaml');
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ job_type: 'hello', version: 1, created: true });

    const again = await call(api.current, 'POST', '/api/jobs/definitions', HELLO, 'application/yaml');
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ job_type: 'hello', version: 1, created: false });

    const changed = await call(api.current, 'POST', '/api/jobs/definitions', HELLO.replace('says hello', 'greets'), 'text/yaml');
    expect(changed.body).toEqual({ job_type: 'hello', version: 2, created: true });

    const detail = await call<DefinitionDetailWire>(api.current, 'GET', '/api/jobs/definitions/hello');
    expect(detail.status).toBe(200);
    expect(detail.body.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(detail.body.latest).toMatchObject({ job_type: 'hello', version: 2, description: 'greets', tasks: ['greet'], disabled: false });
    expect(detail.body.versions[1]?.source).toBe(HELLO);
  });

  it('accepts JSON kept as text, so errors point into what was sent', async () => {
    const json = JSON.stringify({ job_type: 'from-json', tasks: [{ task_type: 'a', script: ['true'] }] }, null, 2);
    const reply = await call(api.current, 'POST', '/api/jobs/definitions', json, 'application/json');
    expect(reply.body).toEqual({ job_type: 'from-json', version: 1, created: true });

    const broken = JSON.stringify({ job_type: 'bad-json', tasks: [{ task_type: 'a', scriptt: ['true'] }] }, null, 2);
    const problem = expectProblem(await call(api.current, 'POST', '/api/jobs/definitions?file_name=bad.json', broken), 422);
    const error = problem.errors?.find((entry) => entry.message.includes('scriptt'));
    // `"scriptt"` is on line 6 of the pretty-printed JSON, after 6 spaces of indentation.
    expect(error?.location).toBe('bad.json:6:7');
  });

  it('lists the latest version of every type', async () => {
    await apply(api.current, HELLO);
    await apply(api.current, HELLO.replace('says hello', 'v2'));
    await apply(api.current, HELLO.replaceAll('hello', 'other'));
    const reply = await call<{ items: { job_type: string; version: number }[] }>(api.current, 'GET', '/api/jobs/definitions');
    expect(reply.body.items.map((d) => [d.job_type, d.version]).sort()).toEqual([
      ['hello', 2],
      ['other', 1],
    ]);
  });

  it('rejects an invalid definition with 422 and every problem at file:line:col', async () => {
    const yaml = `job_type: broken
tasks:
  - task_type: a
    scrpt: [echo]
    on_completed: nowhere
`;
    const problem = expectProblem(await call(api.current, 'POST', '/api/jobs/definitions?file_name=broken.yaml', yaml, 'text/yaml'), 422);
    expect(problem.type).toBe('urn:myrmex:problem:invalid-definition');
    expect(problem.instance).toBe('/api/jobs/definitions?file_name=broken.yaml');
    const locations = problem.errors?.map((error) => error.location) ?? [];
    expect(locations).toContain('broken.yaml:4:5');
    expect(locations).toContain('broken.yaml:5:19');
    const unknownKey = problem.errors?.find((error) => error.location === 'broken.yaml:4:5');
    expect(unknownKey?.field).toBe('tasks[0].scrpt');
    expect(unknownKey?.message).toMatch(/^unknown key 'scrpt'.*did you mean 'script'/);
    expect(problem.detail).toContain('broken.yaml:5:19:');
    const list = await call<{ items: unknown[] }>(api.current, 'GET', '/api/jobs/definitions');
    expect(list.body.items).toEqual([]);
  });

  it('rejects an empty body (400) and a media type it does not read (415), as problem+json', async () => {
    const empty = expectProblem(await call(api.current, 'POST', '/api/jobs/definitions', '  \n', 'text/yaml'), 400);
    expect(empty.errors).toEqual([{ field: 'body', in: 'body', message: 'is required' }]);
    const html = expectProblem(await call(api.current, 'POST', '/api/jobs/definitions', '<p>', 'text/html'), 415);
    expect(html.errors?.[0]?.field).toBe('content-type');
  });

  it('404s an unknown type by GET and DELETE', async () => {
    const get = expectProblem(await call(api.current, 'GET', '/api/jobs/definitions/nope'), 404);
    expect(get.detail).toContain("'nope'");
    expectProblem(await call(api.current, 'DELETE', '/api/jobs/definitions/nope'), 404);
  });

  it('DELETE disables a type: no new requests (409) until it is applied again', async () => {
    await apply(api.current, HELLO);
    const deleted = await call(api.current, 'DELETE', '/api/jobs/definitions/hello');
    expect(deleted.status).toBe(204);
    const detail = await call<DefinitionDetailWire>(api.current, 'GET', '/api/jobs/definitions/hello');
    expect(detail.body.disabled).toBe(true);

    const refused = expectProblem(await call(api.current, 'POST', '/api/jobs/requests', { job_type: 'hello' }), 409);
    expect(refused.type).toBe('urn:myrmex:problem:job-type-disabled');
    expect(refused.errors?.[0]?.field).toBe('job_type');

    await apply(api.current, HELLO.replace('says hello', 'back again'));
    const accepted = await call<JobSummaryWire>(api.current, 'POST', '/api/jobs/requests', { job_type: 'hello' });
    expect(accepted.status).toBe(201);
  });
});
