import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src/index.js';
import { apiPerTest, call } from './harness.js';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
        parameters?: unknown[];
        requestBody?: { content: Record<string, { schema: unknown }> };
      }
    >
  >;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

describe('system API', () => {
  const api = apiPerTest();

  it('lists the embedded ant with its methods and capacity', async () => {
    const reply = await call<{ items: { id: string; methods: string[]; capacity: number; running: number; last_seen_at: string }[] }>(
      api.current,
      'GET',
      '/api/ants',
    );
    expect(reply.status).toBe(200);
    expect(reply.body.items).toHaveLength(1);
    const [ant] = reply.body.items;
    expect(ant?.capacity).toBe(4);
    expect(ant?.running).toBe(0);
    expect(ant?.methods).toEqual(expect.arrayContaining(['SHELL', 'HTTP_GET', 'HTTP_POST_JSON', 'HTTP_PUT_JSON', 'HTTP_DELETE']));
    expect(Number.isNaN(Date.parse(ant?.last_seen_at ?? ''))).toBe(false);
  });

  it('rejects bad options, naming them', async () => {
    await expect(createApi(api.current.queen, { heartbeatMs: 0 })).rejects.toThrow(
      'createApi: heartbeatMs must be a positive integer, got 0',
    );
    await expect(createApi(api.current.queen, { bodyLimit: 1.5 })).rejects.toThrow(
      'createApi: bodyLimit must be a positive integer, got 1.5',
    );
  });

  it('reports health, and 503 once the queen has stopped', async () => {
    const up = await call<{ ok: boolean; store: string; uptime_ms: number; version: string }>(api.current, 'GET', '/api/health');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ ok: true, version: '0.1.0' });
    expect(up.body.store).toMatch(/sqlite/i);
    expect(up.body.uptime_ms).toBeGreaterThanOrEqual(0);
    await api.current.queen.stop();
    const down = await call<{ ok: boolean }>(api.current, 'GET', '/api/health');
    expect(down.status).toBe(503);
    expect(down.body.ok).toBe(false);
  });

  it('publishes an OpenAPI 3 document covering every route, with problem+json errors', async () => {
    const reply = await call<OpenApiDocument>(api.current, 'GET', '/api/openapi.json');
    expect(reply.status).toBe(200);
    const doc = reply.body;
    // Checked against the official OpenAPI 3.0 JSON Schema, not just eyeballed.
    const validation = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0]);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Myrmex orchestrator API');
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'DELETE /api/jobs/definitions/{type}',
        'GET /api/ants',
        'GET /api/circuit-breakers',
        'GET /api/consumables',
        'GET /api/dead-letters',
        'GET /api/health',
        'GET /api/jobs/definitions',
        'GET /api/jobs/definitions/{type}',
        'GET /api/jobs/definitions/{type}/versions/{version}/graph',
        'GET /api/jobs/events',
        'GET /api/jobs/requests',
        'GET /api/jobs/requests/{id}',
        'GET /api/jobs/requests/{id}/approvals',
        'GET /api/jobs/requests/{id}/artifacts',
        'GET /api/jobs/requests/{id}/artifacts/{digest}',
        'GET /api/jobs/requests/{id}/events',
        'GET /api/jobs/requests/{id}/logs',
        'GET /api/jobs/requests/{id}/notifications',
        'GET /api/jobs/requests/{id}/postmortem',
        'GET /api/jobs/requests/{id}/scheduling',
        'POST /api/dead-letters/{id}/redrive',
        'POST /api/jobs/definitions',
        'POST /api/jobs/requests',
        'POST /api/jobs/requests/bulk',
        'POST /api/jobs/requests/{id}/cancel',
        'POST /api/jobs/requests/{id}/pause',
        'POST /api/jobs/requests/{id}/resume',
        'POST /api/jobs/requests/{id}/restart',
        'POST /api/jobs/requests/{id}/tasks/{task}/approve',
        'POST /api/jobs/requests/{id}/tasks/{task}/reject',
        'POST /api/triggers/{target}/{name}',
        'POST /api/webhooks/{target}',
        'POST /api/webhooks/{target}/{name}',
        'PUT /api/consumables/{name}',
      ].sort(),
    );
    expect(Object.keys(doc.components.schemas.Problem?.properties ?? {})).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'instance',
      'errors',
    ]);
    expect(Object.keys(doc.components.schemas).sort()).toEqual([
      'Ant',
      'ApplyResult',
      'Approval',
      'ApprovalVote',
      'DefinitionVersion',
      'FieldError',
      'Health',
      'JobDetail',
      'JobSummary',
      'LogLine',
      'Problem',
      'TaskAttempt',
      'TaskDetail',
      'TimelineEvent',
    ]);
    expect(doc.paths['/api/jobs/requests/{id}']?.get?.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/JobDetail',
    });
    const submit = doc.paths['/api/jobs/requests']?.post;
    expect(submit?.responses['400']?.content?.['application/problem+json']?.schema).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(Object.keys(submit?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '409', '422']));
    // Every operation that reads a body documents it, with the media types it accepts.
    for (const operation of ['POST /api/jobs/definitions', 'POST /api/jobs/requests']) {
      const [method, path] = operation.split(' ') as [string, string];
      expect(doc.paths[path]?.[method.toLowerCase()]?.requestBody, operation).toBeDefined();
    }
    const applyBody = doc.paths['/api/jobs/definitions']?.post?.requestBody?.content ?? {};
    expect(Object.keys(applyBody).sort()).toEqual([
      'application/json',
      'application/x-yaml',
      'application/yaml',
      'text/x-yaml',
      'text/yaml',
    ]);
    expect(applyBody['application/yaml']?.schema).toMatchObject({ type: 'string' });
    // Every $ref resolves inside the document.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) expect(doc.components.schemas[ref.split('/').at(-1)?.replace('"', '') ?? '']).toBeDefined();
  });
});
