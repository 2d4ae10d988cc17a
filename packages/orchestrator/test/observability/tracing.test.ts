import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, RemoteAnt } from '../../src/index.js';
import { apply, servers, waitForEnd } from './helpers.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } }[];
}

/** A real OTLP/HTTP receiver on loopback, decoding the JSON encoding the exporter sends. */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const contentTypes = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      contentTypes.add(`${request.method} ${request.url} ${request.headers['content-type']}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: OtlpSpan['attributes'] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const resource of body.resourceSpans) {
        const name = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        if (name) services.add(name);
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, spans, services, contentTypes, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The downstream service an HTTP task calls: it records the headers it got. */
async function startDownstream() {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const attribute = (span: OtlpSpan | undefined, key: string) => {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? value?.boolValue : Number(value.intValue));
};

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let downstream: Awaited<ReturnType<typeof startDownstream>>;
  const saved = { ...process.env };
  beforeAll(async () => {
    receiver = await startReceiver();
    downstream = await startDownstream();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_SERVICE_NAME = 'queen-under-test';
  });
  afterAll(async () => {
    process.env = saved;
    await close(receiver.server);
    await close(downstream.server);
  });
  const start = servers();

  it('sends a trace per job under the submitter traceparent, a span per attempt, and passes the context to tasks', async () => {
    const { server } = await start();
    await apply(
      server.url,
      `job_type: traced
tasks:
  - task_type: shell
    retry: 1
    delay_between_retries: 10ms
    script:
      - echo "::set-output name=Tp::$TRACEPARENT"
      - if [ {{.TaskRetry}} -lt 1 ]; then exit 5; fi
    on_completed: call
  - task_type: call
    method: HTTP_GET
    url: ${downstream.url}/work
`,
    );
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const response = await fetch(`${server.url}/api/jobs/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ job_type: 'traced', params: {} }),
    });
    const job = (await response.json()) as { id: string };
    expect(await waitForEnd(server.url, job.id)).toBe('COMPLETED');

    await expect.poll(() => receiver.spans.filter((s) => s.traceId === traceId).length, { timeout: 15_000 }).toBe(4);
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const root = spans.find((s) => s.name === 'job traced');
    expect(root?.parentSpanId).toBe(callerSpan);
    expect(attribute(root, 'myrmex.job.id')).toBe(job.id);
    const attempts = spans
      .filter((s) => s.name === 'task shell')
      .sort((a, b) => Number(attribute(a, 'myrmex.task.attempt')) - Number(attribute(b, 'myrmex.task.attempt')));
    expect(attempts.map((s) => attribute(s, 'myrmex.task.attempt'))).toEqual([1, 2]);
    expect(attempts.map((s) => attribute(s, 'myrmex.task.exit_code'))).toEqual([5, 0]);
    expect(attempts.map((s) => attribute(s, 'myrmex.task.retry'))).toEqual([false, true]);
    for (const span of attempts) {
      expect(span.parentSpanId).toBe(root?.spanId);
      expect(attribute(span, 'myrmex.ant.id')).toMatch(/^embedded@/);
    }
    // The shell saw its own attempt's context; the HTTP call carried the header of its span.
    const detail = (await (await fetch(`${server.url}/api/jobs/requests/${job.id}`)).json()) as {
      tasks: { task_type: string; outputs: Record<string, string> }[];
    };
    expect(detail.tasks.find((t) => t.task_type === 'shell')?.outputs.Tp).toBe(`00-${traceId}-${attempts[1]?.spanId}-01`);
    const call = spans.find((s) => s.name === 'task call');
    expect(downstream.seen.at(-1)?.traceparent).toBe(`00-${traceId}-${call?.spanId}-01`);
    expect(receiver.services).toContain('queen-under-test');
    expect([...receiver.contentTypes].join()).toContain('POST /v1/traces application/json');
  });

  it('carries the trace to a remote ant over the ant protocol: its task sees its attempt span as TRACEPARENT', async () => {
    const { server } = await start({ antTokens: 'remote-ant-token-for-tracing' });
    const dir = server.dbPath.replace(/queen\.db$/, '');
    const ant = new RemoteAnt({
      servers: [server.url],
      token: 'remote-ant-token-for-tracing',
      id: 'remote-traced',
      capacity: 1,
      tags: ['far'],
      stateDir: join(dir, 'ant-state'),
      logger: createLogger({ format: 'json', write: () => {} }),
    });
    await ant.start();
    try {
      await apply(
        server.url,
        'job_type: far\ntasks:\n  - task_type: away\n    tags: [far]\n    script: [\'echo "::set-output name=Tp::$TRACEPARENT"\']\n',
      );
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const response = await fetch(`${server.url}/api/jobs/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
        body: JSON.stringify({ job_type: 'far', params: {} }),
      });
      const job = (await response.json()) as { id: string };
      expect(await waitForEnd(server.url, job.id)).toBe('COMPLETED');
      await expect.poll(() => receiver.spans.filter((s) => s.traceId === traceId).length, { timeout: 15_000 }).toBe(2);
      const span = receiver.spans.find((s) => s.traceId === traceId && s.name === 'task away');
      expect(attribute(span, 'myrmex.ant.id')).toBe('remote-traced');
      expect(attribute(span, 'myrmex.task.exit_code')).toBe(0);
      expect(span?.parentSpanId).toBe(receiver.spans.find((s) => s.traceId === traceId && s.name === 'job far')?.spanId);
      const detail = (await (await fetch(`${server.url}/api/jobs/requests/${job.id}`)).json()) as {
        tasks: { task_type: string; outputs: Record<string, string>; attempts: { ant_id?: string }[] }[];
      };
      const away = detail.tasks.find((t) => t.task_type === 'away');
      expect(away?.attempts[0]?.ant_id).toBe('remote-traced');
      expect(away?.outputs.Tp).toBe(`00-${traceId}-${span?.spanId}-01`);
    } finally {
      await ant.stop();
    }
  });

  it('starts a new trace for a job submitted without a traceparent', async () => {
    const { server } = await start();
    await apply(server.url, 'job_type: plain\ntasks:\n  - task_type: a\n    script: [echo a]\n');
    const response = await fetch(`${server.url}/api/jobs/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ job_type: 'plain', params: {} }),
    });
    const job = (await response.json()) as { id: string };
    await waitForEnd(server.url, job.id);
    await expect
      .poll(() => receiver.spans.some((s) => s.name === 'job plain' && attribute(s, 'myrmex.job.id') === job.id), { timeout: 15_000 })
      .toBe(true);
    const root = receiver.spans.find((s) => attribute(s, 'myrmex.job.id') === job.id && s.name === 'job plain');
    expect(root?.parentSpanId ?? '').toBe('');
    expect(receiver.spans.find((s) => s.name === 'task a' && s.traceId === root?.traceId)?.parentSpanId).toBe(root?.spanId);
  });
});
