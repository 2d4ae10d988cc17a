import { createHttpExecutor } from '@myrmex/orchestrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobDefinition } from '../../src/definition/index.js';
import { startServer, type TestServer } from './http-server.js';
import { run, spec } from './run.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ method: request.method, type: request.headers['content-type'] ?? null, body: request.body }));
  });
});
afterAll(() => server.close());

describe('HTTP _FORM methods and the body rule', () => {
  it('HTTP_POST_FORM and HTTP_PUT_FORM send the body as form fields', async () => {
    for (const method of ['HTTP_POST_FORM', 'HTTP_PUT_FORM'] as const) {
      const result = await run(
        createHttpExecutor(method),
        spec({ method, url: `${server.url}/form`, body: { name: 'a b', n: 2, list: [1, 2] } }),
      );
      expect(result.result).toEqual({ exitCode: 200, succeeded: true });
      expect(JSON.parse(result.outputs.body!)).toEqual({
        method: method === 'HTTP_POST_FORM' ? 'POST' : 'PUT',
        type: 'application/x-www-form-urlencoded',
        body: 'name=a+b&n=2&list=%5B1%2C2%5D',
      });
    }
  });

  it("a POST or PUT task without a body sends its variables (Formicary's rule); an explicit body wins", () => {
    const definition = parseJobDefinition(
      [
        'job_type: forms',
        'tasks:',
        '  - task_type: a',
        '    method: HTTP_POST_FORM',
        `    url: ${server.url}/form`,
        '    variables: { user: ann, count: 3 }',
        '    on_completed: b',
        '  - task_type: b',
        '    method: HTTP_POST_JSON',
        `    url: ${server.url}/json`,
        '    variables: { user: bob }',
        '    body: { explicit: true }',
        '    on_completed: c',
        '  - task_type: c',
        '    method: HTTP_GET',
        `    url: ${server.url}/get`,
        '    variables: { user: cy }',
      ].join('\n'),
    );
    expect(definition.tasks.map((task) => task.body ?? null)).toEqual([{ user: 'ann', count: 3 }, { explicit: true }, null]);
  });
});
