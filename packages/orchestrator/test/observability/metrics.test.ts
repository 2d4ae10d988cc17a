import { describe, expect, it } from 'vitest';
import { apply, samples, servers, submit, value, waitForEnd } from './helpers.js';

const FLAKY = `job_type: flaky
tasks:
  - task_type: try
    retry: 2
    delay_between_retries: 10ms
    script:
      - if [ {{.TaskRetry}} -lt 1 ]; then exit 3; fi
      - echo ok
`;
const SLOW = `job_type: slow
tasks:
  - task_type: nap
    timeout: 300ms
    script:
      - sleep 5
`;
const HELD = `job_type: held
tasks:
  - task_type: never
    method: SHELL
    tags: [gpu]
    script: [echo never]
`;

describe('GET /metrics', () => {
  const start = servers();

  it('counts jobs, transitions, retries, timeouts and durations by type, with no job id in any label', async () => {
    const { server } = await start();
    await apply(server.url, FLAKY);
    await apply(server.url, SLOW);
    const ok = await submit(server.url, 'flaky');
    const late = await submit(server.url, 'slow');
    expect(await waitForEnd(server.url, ok.id)).toBe('COMPLETED');
    expect(await waitForEnd(server.url, late.id)).toBe('FAILED');

    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const all = samples(text);
    expect(value(all, 'myrmex_jobs', { state: 'COMPLETED' })).toBe(1);
    expect(value(all, 'myrmex_jobs', { state: 'FAILED' })).toBe(1);
    expect(value(all, 'myrmex_job_transitions_total', { job_type: 'flaky', to: 'COMPLETED' })).toBe(1);
    expect(value(all, 'myrmex_task_retries_total', { job_type: 'flaky' })).toBe(1);
    expect(value(all, 'myrmex_task_timeouts_total', { job_type: 'slow', scope: 'task' })).toBe(1);
    expect(value(all, 'myrmex_task_duration_seconds_count', { job_type: 'flaky', outcome: 'RETRIED' })).toBe(1);
    expect(value(all, 'myrmex_task_duration_seconds_count', { job_type: 'flaky', outcome: 'COMPLETED' })).toBe(1);
    expect(value(all, 'myrmex_job_submit_to_start_seconds_count', { job_type: 'flaky' })).toBe(1);
    expect(value(all, 'myrmex_store_operation_duration_seconds_count', { operation: 'apply' })).toBeGreaterThan(0);
    expect(all.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    expect(value(all, 'myrmex_ants', { status: 'live' })).toBe(1);
    expect(value(all, 'myrmex_ant_capacity_slots')).toBe(4);
    // The scheduler reports each pass: how many, how long, and what it decided (two jobs admitted, three attempts started).
    expect(value(all, 'myrmex_scheduler_passes_total', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(all, 'myrmex_scheduler_pass_duration_seconds_count')).toBe(value(all, 'myrmex_scheduler_passes_total'));
    expect(value(all, 'myrmex_scheduler_decisions_total', { kind: 'admit' })).toBe(2);
    expect(value(all, 'myrmex_scheduler_decisions_total', { kind: 'start' })).toBe(3);
    for (const id of [ok.id, late.id]) expect(text).not.toContain(id);
  });

  it('reports queue depth by priority, tag and tenant, and how long the oldest task of each tenant has waited', async () => {
    const { server } = await start();
    await apply(server.url, HELD);
    await submit(server.url, 'held', { tenant: 'acme' });
    await submit(server.url, 'held');
    // No ant has the gpu tag: the tasks stay READY, which is what the queue gauges count.
    await expect
      .poll(async () =>
        value(samples(await (await fetch(`${server.url}/metrics`)).text()), 'myrmex_queue_depth', { kind: 'task', tag: 'gpu' }),
      )
      .toBe(2);
    const all = samples(await (await fetch(`${server.url}/metrics`)).text());
    expect(all.find((s) => s.name === 'myrmex_queue_depth' && s.labels.tag === 'gpu')?.labels.priority).toMatch(/^\d+$/);
    expect(value(all, 'myrmex_queue_depth', { kind: 'task', tag: 'gpu', tenant: 'acme' })).toBe(1);
    expect(value(all, 'myrmex_queue_depth', { kind: 'task', tag: 'gpu', tenant: 'default' })).toBe(1);
    const waits = all.filter((s) => s.name === 'myrmex_queue_oldest_wait_seconds' && s.labels.kind === 'task');
    expect(waits.map((s) => s.labels.tenant).sort()).toEqual(['acme', 'default']);
    for (const wait of waits) expect(wait.value).toBeGreaterThanOrEqual(0);
  });
});

describe('/healthz and /readyz', () => {
  const start = servers();

  it('is live and ready with a store and an ant', async () => {
    const { server } = await start();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    const body = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> };
    expect(ready.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.checks.ants?.detail).toBe('1 live ant(s)');
  });

  it('says what is wrong when the queen stopped and its store is closed', async () => {
    const { server } = await start();
    await server.queen.stop();
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { ready: boolean; problems: string[] };
    expect(body.ready).toBe(false);
    expect(body.problems.join('\n')).toMatch(/queen: the queen is not running/);
    expect(body.problems.join('\n')).toMatch(/store: the store is unreachable/);
  });
});

describe('structured logs', () => {
  const start = servers();

  it('logs every transition as JSON with the job id and task type as fields', async () => {
    const { server, lines } = await start();
    await apply(server.url, FLAKY);
    const job = await submit(server.url, 'flaky');
    await waitForEnd(server.url, job.id);
    const entries = lines
      .flatMap((l) => l.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = entries.filter((e) => e.jobId === job.id);
    expect(mine.some((e) => e.taskType === 'try' && e.to === 'EXECUTING')).toBe(true);
    expect(mine.some((e) => e.taskType === undefined && e.to === 'COMPLETED')).toBe(true);
  });
});
