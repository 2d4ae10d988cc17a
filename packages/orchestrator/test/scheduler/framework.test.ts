import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProfile } from '@myrmex/scheduling';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/index.js';
import { parseJobDefinition } from '../../src/definition/index.js';
import type { JobDefinition } from '../../src/definition/model.js';
import { OrchestratorMetrics } from '../../src/observability/index.js';
import { Queen } from '../../src/queen/queen.js';
import { summarise } from '../../src/scheduler/feed.js';
import { explainWait, frameworkPolicy, NO_NEEDS } from '../../src/scheduler/index.js';

let dir: string | undefined;
let queen: Queen | undefined;
afterEach(async () => {
  await queen?.stop();
  queen = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the queen on a framework profile sees what runs (issue 13)', () => {
  it('fair share charges a tenant for its running attempt read from the store, so the other tenant goes first', async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-sched-'));
    const gate = join(dir, 'gate');
    const policy = frameworkPolicy(parseProfile('name: fair\nplugins:\n  - fair-share: { policy: drf }\n  - fcfs\n'));
    queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity: 2 }, pollIntervalMs: 50, policy });
    await queen.start();
    const q = queen;
    await q.applyDefinition(
      `job_type: blocker\ntasks:\n  - task_type: wait\n    script: ['while [ ! -f ${gate} ]; do sleep 0.05; done']\n`,
    );
    await q.applyDefinition('job_type: quick\ntasks:\n  - task_type: run\n    script: ["true"]\n');
    const blocker = await q.submit({ jobType: 'blocker', params: { tenant: 'acme' } });
    await until(
      () => q.getJob(blocker.id),
      (j) => j?.state === 'EXECUTING',
      'the blocker to run',
    );
    // Both due at one instant, acme's submitted first: only its running attempt can put globex ahead.
    const due = new Date(Date.now() + 1_000);
    const acme = await q.submit({ jobType: 'quick', params: { tenant: 'acme' }, scheduledAt: due });
    const globex = await q.submit({ jobType: 'quick', params: { tenant: 'globex' }, scheduledAt: due });
    const [a, g] = await until(
      () => Promise.all([q.getJob(acme.id), q.getJob(globex.id)]),
      (jobs) => jobs.every((j) => j?.state === 'COMPLETED'),
      'both quick jobs',
    );
    expect(g!.startedAt!.getTime()).toBeLessThanOrEqual(a!.startedAt!.getTime());
    const tasks = [...(await q.getJob(globex.id))!.tasks, ...(await q.getJob(acme.id))!.tasks];
    const starts = tasks.map((t) => t.attempts[0]!.startedAt.getTime());
    expect(starts[0]).toBeLessThan(starts[1]!);
    await writeFile(gate, '');
    await until(
      () => q.getJob(blocker.id),
      (j) => j?.state === 'COMPLETED',
      'the blocker to end',
    );
  });

  it('says why a job waits and when it should start, over HTTP, and counts passes and decisions for Prometheus', async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-sched-'));
    const policy = frameworkPolicy(parseProfile('name: prio\nplugins:\n  - priority\n'));
    queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity: 1 }, pollIntervalMs: 50, policy });
    const metrics = new OrchestratorMetrics({ queen });
    await queen.start();
    const q = queen;
    await q.applyDefinition('job_type: quick\ntasks:\n  - task_type: run\n    script: ["true"]\n');
    const done = await q.submit({ jobType: 'quick' });
    await until(
      () => q.getJob(done.id),
      (j) => j?.state === 'COMPLETED',
      'a first job',
    );
    const later = new Date(Date.now() + 3_600_000);
    const waiting = await q.submit({ jobType: 'quick', scheduledAt: later, params: { tenant: 'acme' } });
    const app = await createApi(q);
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const response = await fetch(`${url}/api/jobs/requests/${waiting.id}/scheduling`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ job_id: waiting.id, state: 'PENDING', waiting: true, held_by: 'schedule', tenant: 'acme' });
      expect(body.reason).toBe(`scheduled: not before ${later.toISOString()}`);
      expect(Date.parse(String(body.estimated_start_at))).toBeGreaterThanOrEqual(later.getTime());
      const finished = (await (await fetch(`${url}/api/jobs/requests/${done.id}/scheduling`)).json()) as Record<string, unknown>;
      expect(finished).toEqual({ job_id: done.id, state: 'COMPLETED', waiting: false, tenant: 'default' });
      expect((await fetch(`${url}/api/jobs/requests/nope/scheduling`)).status).toBe(404);
    } finally {
      await app.close();
    }
    const text = await until(
      () => metrics.text(),
      (t) => /myrmex_scheduler_decisions_total\{kind="start",plugin=""\} [1-9]/.test(t),
      'a start counted',
    );
    expect(text).toMatch(/myrmex_scheduler_passes_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/myrmex_scheduler_decisions_total\{kind="admit",plugin=""\} [1-9]/);
    metrics.close();
  });
});

describe('preemption applied by the queen (issue 13)', () => {
  it('stops a lower-priority attempt through the kill mark, runs the urgent job, and reruns the victim without spending a retry', async () => {
    dir = await mkdtemp(join(tmpdir(), 'myrmex-sched-'));
    const gate = join(dir, 'gate');
    const policy = frameworkPolicy(parseProfile('name: preempting\nplugins:\n  - priority\n  - preemption: { grace: 1s }\n'));
    queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity: 1 }, pollIntervalMs: 50, policy });
    const metrics = new OrchestratorMetrics({ queen });
    await queen.start();
    const q = queen;
    // retry: 0 — a preemption must not count as the task's failure.
    await q.applyDefinition(`job_type: batch\ntasks:\n  - task_type: wait\n    script: ['while [ ! -f ${gate} ]; do sleep 0.05; done']\n`);
    await q.applyDefinition('job_type: urgent\ntasks:\n  - task_type: run\n    script: ["true"]\n');
    const low = await q.submit({ jobType: 'batch', priority: 1 });
    await until(
      () => q.getJob(low.id),
      (j) => j?.tasks[0]?.state === 'EXECUTING',
      'the batch task to run',
    );
    const high = await q.submit({ jobType: 'urgent', priority: 90 });
    await until(
      () => q.getJob(high.id),
      (j) => j?.state === 'COMPLETED',
      'the urgent job, through preemption',
    );
    const preempted = await until(
      () => q.getJob(low.id),
      (j) => (j?.tasks[0]?.attempts.length ?? 0) >= 2,
      'the victim to run again',
    );
    expect(preempted!.tasks[0]!.attempts[0]!.reason).toMatch(/^preempted: preempted by job .* \(priority 90\)/);
    const urgentStart = (await q.getJob(high.id))!.startedAt!.getTime();
    expect(preempted!.tasks[0]!.attempts[1]!.startedAt.getTime()).toBeGreaterThanOrEqual(urgentStart);
    await writeFile(gate, '');
    const done = await until(
      () => q.getJob(low.id),
      (j) => j?.state === 'COMPLETED' || j?.state === 'FAILED',
      'the victim to finish',
    );
    expect(done!.state).toBe('COMPLETED');
    expect(await metrics.text()).toMatch(/myrmex_scheduler_decisions_total\{kind="preempt",plugin=""\} 1\b/);
    metrics.close();
  });
});

describe("frameworkPolicy places by the definition's affinity", () => {
  it('takes only an ant whose tags match a required term, and says why when none does', () => {
    const policy = frameworkPolicy(parseProfile('name: placing\nplugins:\n  - fcfs\n  - affinity\n'));
    const definition = parseJobDefinition(
      'job_type: train\ntasks:\n  - task_type: fit\n    script: [fit]\n    affinity:\n      required:\n        - match_expressions: [{ key: gpu, operator: Exists }]\n',
    );
    policy.observe!({ now: 0, running: [], history: {}, usage: {}, definitions: new Map([['train@1', definition]]), tenants: new Map() });
    const task = {
      jobId: 'j1',
      jobType: 'train',
      version: 1,
      taskType: 'fit',
      priority: 50,
      submittedAt: new Date(0),
      jobSeq: 1,
      org: 'default',
      method: 'SHELL',
      tags: [],
      needs: NO_NEEDS,
    };
    const slot = (id: string, tags: string[], labels: Record<string, string> = {}) => ({
      id,
      methods: new Set(['SHELL']),
      tags: new Set(tags),
      capacity: 2,
      running: 0,
      labels,
    });
    expect(policy.placeTask(task, [slot('cpu-only', []), slot('big', ['gpu'])])?.id).toBe('big');
    // Ant labels count as well as tags.
    expect(policy.placeTask(task, [slot('cpu-only', []), slot('labelled', [], { gpu: 'a100' })])?.id).toBe('labelled');
    expect(policy.placeTask(task, [slot('cpu-only', [])])).toBeUndefined();
    expect(policy.explain!('j1')).toMatchObject({ plugin: 'placement' });
    expect(policy.explain!('j1')?.reason).toMatch(/affinity|match/);
  });
});

describe('explainWait', () => {
  const base = { now: 1_000_000, jobId: 'j', state: 'PENDING', scheduledAt: 0, readyTasks: 0, slots: 4, running: 4, meanRuntime: 10_000 };

  it('puts a hold of the framework first, with its plugin and retry time', () => {
    const held = { reason: 'held: tenant acme at quota 10/10', plugin: 'concurrency-limits', retryAt: 1_005_000, at: 1_000_000 };
    expect(explainWait({ ...base, ahead: 0, held })).toMatchObject({
      reason: 'held: tenant acme at quota 10/10',
      heldBy: 'concurrency-limits',
      retryAt: new Date(1_005_000).toISOString(),
    });
  });

  it('names max_concurrency, a busy cluster and the queue position, and estimates from history', () => {
    expect(explainWait({ ...base, ahead: 2, concurrency: [3, 3] }).reason).toBe('held: job type at max_concurrency 3/3');
    const queued = explainWait({ ...base, ahead: 7 });
    expect(queued.reason).toBe('queued: 7 jobs ahead');
    // 4 slots all busy: a slot frees in about half a runtime, then 7 - 0 ahead drain 4 at a time (2 rounds).
    expect(queued.estimatedStartAt).toBe(new Date(1_000_000 + 5_000 + 2 * 10_000).toISOString());
    expect(explainWait({ ...base, state: 'READY', readyTasks: 1 }).reason).toBe('every ant slot is busy (4/4)');
    expect(explainWait({ ...base, slots: 0, running: 0 })).toMatchObject({ reason: 'no ant is connected' });
    expect(explainWait({ ...base, slots: 0, running: 0 }).estimatedStartAt).toBeUndefined();
  });
});

describe('summarise (history and usage from ended attempts)', () => {
  it('keeps completed runtimes per job type, oldest first, and charges resource x ms to tenant and queue', () => {
    const definition = {
      jobType: 'etl',
      tasks: [{ taskType: 'load', scheduling: { resources: { cpu: 2 } } }],
      scheduling: { queue: 'batch', tenant: 'acme' },
    } as unknown as JobDefinition;
    const row = (endedAt: number, ms: number, state = 'COMPLETED', params = {}) => ({
      jobId: `j${endedAt}`,
      taskType: 'load',
      attempt: 1,
      jobType: 'etl',
      version: 1,
      params,
      state,
      startedAt: endedAt - ms,
      endedAt,
    });
    // Newest first, as the store returns them.
    const rows = [row(300, 30), row(200, 20, 'FAILED', { tenant: 'globex' }), row(100, 10)];
    const { history, usage } = summarise(rows, new Map([['etl@1', definition]]), 0, 50);
    expect(history).toEqual({ etl: [10, 30] });
    expect(usage['tenant:acme']).toEqual({ consumed: { cpu: 80, slots: 40 }, periodStart: 0 });
    expect(usage['tenant:globex']).toEqual({ consumed: { cpu: 40, slots: 20 }, periodStart: 0 });
    expect(usage['queue:batch']?.consumed).toEqual({ cpu: 120, slots: 60 });
  });
});
