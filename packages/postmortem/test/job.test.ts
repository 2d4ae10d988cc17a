import { afterEach, describe, expect, it } from 'vitest';
import { fetchJob, JobFetchError, jobUrl, lint, parse, postMortemFromJob, readJob, render } from '../src/index.js';
import { failedJobWire, jobServer } from './support/job-server.js';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(route: Parameters<typeof jobServer>[0]) {
  const server = await jobServer(route);
  servers.push(server);
  return server;
}

const camel = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(camel)
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camel(v)]))
      : value;

describe('a draft from an orchestrator job', () => {
  it('fills the timeline, durations and failing tasks from the event log', () => {
    const doc = postMortemFromJob(readJob(failedJobWire), '2026-11-20T09:00:00Z');
    expect(doc.frontMatter).toMatchObject({
      status: 'draft',
      service: 'nightly-billing',
      incident_start: '2026-11-20T02:00:00Z',
      impact_start: '2026-11-20T02:00:05Z',
      detected_at: '2026-11-20T02:41:30Z',
      resolved_at: '2026-11-20T02:41:35Z',
      draft_created_at: '2026-11-20T09:00:00Z',
    });
    expect(doc.extraFrontMatter).toEqual({ job_id: 'job-7f3a' });
    expect(doc.timeline?.entries).toHaveLength(8);
    expect(doc.timeline?.entries[5]).toEqual({
      date: '2026-11-20',
      time: '02:41:30',
      text: 'task charge-cards: EXECUTING -> FAILED (payment gateway timed out)',
      milestone: true,
    });
    expect(doc.summary).toContain('ended FAILED at 2026-11-20T02:41:35Z after 41 min 30 s');
    expect(doc.summary).toContain(
      'Failing tasks: charge-cards (FAILED, exit code 3, 2 attempts, payment gateway timed out, ran 29 min 20 s).',
    );
    expect(doc.metrics?.intro).toContain('| export-usage | COMPLETED | 1 | 0 | 12 min 0 s |');
    expect(doc.rootCause?.branches[0]?.whys[0]).toEqual({
      number: '1',
      question: 'Why did job job-7f3a end FAILED?',
      answer: 'Task charge-cards ended FAILED: payment gateway timed out.',
    });
  });

  it('renders a document that parses back to itself and that the reviewer can read', () => {
    const doc = postMortemFromJob(readJob(failedJobWire), '2026-11-20T09:00:00Z');
    const parsed = parse(render(doc));
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.doc).toEqual(doc);
    const rules = new Set(lint(parsed).map((f) => f.rule));
    expect(rules.has('timeline-entry-malformed')).toBe(false);
    expect(rules.has('timeline-mixed-timezones')).toBe(false);
  });

  it('accepts the camelCase form of the same job', () => {
    expect(readJob(camel(failedJobWire))).toEqual(readJob(failedJobWire));
  });

  it('names the field a malformed job gets wrong', () => {
    expect(() => readJob({ ...failedJobWire, tasks: [{ task_type: 'x', state: 'FAILED', exit_code: 'three' }] })).toThrow(
      'job tasks.0.exitCode:',
    );
    expect(() => readJob({ ...failedJobWire, submitted_at: 'yesterday' })).toThrow('job submittedAt:');
  });
});

describe('fetchJob against a real HTTP server on loopback', () => {
  it('GETs /api/jobs/requests/{id} under the server prefix and validates the answer', async () => {
    const server = await serve(() => ({ status: 200, body: JSON.stringify(failedJobWire) }));
    const job = await fetchJob(`${server.url}/queen/`, 'job 7f3a');
    expect(server.requests).toEqual(['/queen/api/jobs/requests/job%207f3a']);
    expect(job.tasks.map((t) => t.taskType)).toEqual(['export-usage', 'charge-cards', 'send-invoices']);
  });

  it('reports the status and body of an error answer', async () => {
    const server = await serve(() => ({ status: 404, body: '{"error":"no such job"}' }));
    await expect(fetchJob(server.url, 'missing')).rejects.toThrow(
      new JobFetchError('GET /api/jobs/requests/missing answered 404: {"error":"no such job"}'),
    );
  });

  it('reports an answer that is not JSON, or not a job', async () => {
    const server = await serve((url) => (url.endsWith('/text') ? { status: 200, body: 'hello' } : { status: 200, body: '{"id":"x"}' }));
    await expect(fetchJob(server.url, 'text')).rejects.toThrow('did not answer JSON');
    await expect(fetchJob(server.url, 'partial')).rejects.toThrow('GET /api/jobs/requests/partial: job jobType:');
  });

  it('reports a server that is not listening', async () => {
    const server = await serve(() => ({ status: 200, body: '{}' }));
    await server.close();
    servers.pop();
    await expect(fetchJob(server.url, 'x', { timeoutMs: 2000 })).rejects.toThrow(/^cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses a server URL that is not http', () => {
    expect(() => jobUrl('ftp://example.com', '1')).toThrow('--server must be an http or https URL');
    expect(() => jobUrl('not a url', '1')).toThrow('is not a URL');
  });
});
