import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The queens come from the package, as the helpers that wait on them take its type.
import { openStoreSync, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { judge, judgeAdmissions, parseQuotaLimit, periodEnd, periodStart, type TimelineEvent } from '../../src/index.js';
import { summarise } from '../../src/scheduler/feed.js';
import { tenantOf } from '../../src/scheduler/view.js';
import { apply, servers, submit, waitForEnd } from '../observability/helpers.js';
import { finished, until } from '../queen/helpers.js';
import { DEFINITION, openSecured, req } from './harness.js';

const gate = await postgres();

/** One task that waits until the test creates `go` in `dir` (the shell polls; the test waits on conditions). */
const WAITING = (jobType: string, dir: string) =>
  `job_type: ${jobType}\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["while [ ! -f ${dir}/go ]; do sleep 0.02; done"]\n`;

/** The most jobs admitted at once, from their timelines: admitted at READY, released when they end. */
function mostAdmittedAtOnce(timelines: readonly (readonly TimelineEvent[])[]): number {
  const marks: [number, number][] = [];
  for (const events of timelines) {
    const jobEvents = events.filter((e) => e.taskType === undefined);
    const admitted = jobEvents.find((e) => e.to === 'READY');
    const ended = jobEvents.find((e) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.to));
    if (admitted) marks.push([admitted.at.getTime(), 1]);
    if (admitted && ended) marks.push([ended.at.getTime(), -1]);
  }
  // At one millisecond an end is counted before an admission: the place it frees is what the admission took.
  marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of marks) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

describe('quota rules', () => {
  it('judges hard and soft limits, CPU-hours once reached, and batches in order', () => {
    const now = Date.UTC(2026, 11, 4, 16, 30);
    expect(periodStart('daily', now)).toBe(Date.UTC(2026, 11, 4));
    expect(periodEnd('daily', now)).toBe(Date.UTC(2026, 11, 5));
    expect(periodStart('monthly', now)).toBe(Date.UTC(2026, 11, 1));
    expect(periodEnd('monthly', now)).toBe(Date.UTC(2027, 0, 1));
    const running = { org: 'acme', resource: 'running_jobs' as const, hard: 10, soft: 8 };
    expect(judge(running, 10, 1, now)?.message).toBe('org acme at quota 10/10 running jobs');
    expect(judge(running, 8, 1, now)).toMatchObject({ level: 'soft', message: 'org acme at soft quota 9/8 running jobs' });
    expect(judge(running, 7, 1, now)).toBeUndefined();
    const cpu = { org: 'acme', user: 'ada', resource: 'cpu_hours' as const, hard: 2, period: 'daily' as const };
    expect(judge(cpu, 1.99, 0, now)).toBeUndefined();
    expect(judge(cpu, 2, 0, now)).toMatchObject({ level: 'hard', until: Date.UTC(2026, 11, 5) });
    expect(judge(cpu, 2, 0, now)?.message).toBe('user ada of org acme at quota 2/2 CPU-hours per day');
    const verdicts = judgeAdmissions(
      ['j1', 'j2', 'j3', 'j4'].map((jobId, i) => ({ jobId, org: i === 3 ? 'other' : 'acme', user: 'ada' })),
      [
        { ...running, hard: 2, soft: 1, used: 0 },
        { org: 'acme', user: 'ada', resource: 'running_jobs', hard: 5, used: 0 },
      ],
      now,
    );
    expect([...verdicts.keys()]).toEqual(['j1', 'j2', 'j3']);
    expect(verdicts.get('j1')).toEqual({ warnings: [] });
    expect(verdicts.get('j2')?.warnings.map((w) => w.message)).toEqual(['org acme at soft quota 2/1 running jobs']);
    expect(verdicts.get('j3')?.hold?.message).toBe('org acme at quota 2/2 running jobs');
  });

  it("makes a job's organisation its tenant in the scheduling framework, so fair share and usage are per organisation", () => {
    expect(tenantOf({ tenant: 'beta' }, undefined, 'acme')).toBe('acme');
    expect(tenantOf({ tenant: 'beta' }, undefined, 'default')).toBe('beta');
    expect(tenantOf({}, undefined)).toBe('default');
    const ended = (org: string, ms: number) => ({
      jobId: `j-${org}-${ms}`,
      taskType: 'a',
      attempt: 1,
      jobType: 'build',
      version: 1,
      params: { tenant: 'someone-else' },
      org,
      state: 'COMPLETED',
      startedAt: 0,
      endedAt: ms,
    });
    const { usage } = summarise([ended('acme', 3000), ended('acme', 1000), ended('beta', 500)], new Map(), 0, 10);
    expect(usage['tenant:acme']?.consumed).toEqual({ slots: 4000 });
    expect(usage['tenant:beta']?.consumed).toEqual({ slots: 500 });
    expect(usage['tenant:someone-else']).toBeUndefined();
  });

  it('checks a limit field by field and names the field', () => {
    expect(parseQuotaLimit('acme', { resource: 'cpu_hours', hard: 1.5 })).toEqual({
      org: 'acme',
      resource: 'cpu_hours',
      hard: 1.5,
      period: 'daily',
    });
    expect(() => parseQuotaLimit('acme', { resource: 'disk' })).toThrow(
      /^resource: must be one of running_jobs, cpu_hours, artifact_bytes/,
    );
    expect(() => parseQuotaLimit('acme', { resource: 'running_jobs', hard: 1.5 })).toThrow(/^hard: must be a whole number/);
    expect(() => parseQuotaLimit('acme', { resource: 'running_jobs', hard: 2, soft: 3 })).toThrow(/^soft: must not be above hard/);
    expect(() => parseQuotaLimit('acme', { resource: 'running_jobs', period: 'daily' })).toThrow(/^period: running_jobs/);
    expect(() => parseQuotaLimit('acme', { resource: 'artifact_bytes', colour: 1 })).toThrow(/^colour: unknown field/);
  });
});

gate.describe('running-jobs quota across queens on PostgreSQL', () => {
  it('two queens admitting one organisation never pass its hard limit; held jobs say why; soft passes are in the timeline', async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-quota-'));
    const open = () => Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 4 }, pollIntervalMs: 20 });
    const first = await open();
    const second = await open();
    try {
      const store = PostgresStore.open({ url: db.url });
      const security = store.security();
      await security.createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await security.quotas().setLimit({ org: 'acme', resource: 'running_jobs', hard: 2, soft: 1 }, new Date());
      await first.applyDefinition(WAITING('build', dir), undefined, 'acme');
      const jobs = await first.submitMany(Array.from({ length: 8 }, () => ({ jobType: 'build', org: 'acme' })));
      await first.start();
      await second.start();
      const held = await until(async () => {
        const states = await Promise.all(jobs.map(async (job) => (await first.getJob(job.id))!.state));
        if (states.filter((s) => s === 'PENDING').length !== 6) return undefined;
        const waiting = jobs.find((_, i) => states[i] === 'PENDING')!;
        return second.schedulingStatus(waiting.id);
      }, 20_000);
      expect(held).toMatchObject({ reason: 'held: org acme at quota 2/2 running jobs', heldBy: 'quota' });
      writeFileSync(join(dir, 'go'), '');
      for (const job of jobs) expect((await finished(first, job.id, 60_000)).state).toBe('COMPLETED');
      const timelines = await Promise.all(jobs.map((job) => store.timeline(job.id)));
      expect(mostAdmittedAtOnce(timelines)).toBe(2);
      const reasons = timelines.flatMap((events) =>
        events.filter((e) => e.to === 'READY' && e.taskType === undefined).map((e) => e.reason),
      );
      expect(reasons).toContain('admitted over soft quota: org acme at soft quota 2/1 running jobs');
      await store.close();
    } finally {
      await second.stop();
      await first.stop();
      rmSync(dir, { recursive: true, force: true });
      await db.dispose();
    }
  }, 120_000);
});

describe('CPU-hours and artifact storage', () => {
  it('charges the CPU time attempts used (wall clock where none was measured), then holds new jobs for the rest of the day; counts unexpired artifact bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-quota-cpu-'));
    const store = openStoreSync(join(dir, 'myrmex.db'));
    const queen = await Queen.open({ store, ant: { capacity: 2 }, pollIntervalMs: 20 });
    try {
      await queen.start();
      const quotas = store.quotas();
      await store.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      // 0.1 s of CPU time a day: sleeping for half a second uses almost none of it; a job that burns a few tenths uses it up.
      await quotas.setLimit({ org: 'acme', resource: 'cpu_hours', hard: 0.1 / 3600, period: 'daily' }, new Date());
      const shell = (jobType: string, line: string) =>
        `job_type: ${jobType}\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["${line}"]\n`;
      await queen.applyDefinition(shell('nap', 'sleep 0.5'), undefined, 'acme');
      await queen.applyDefinition(shell('spin', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done'), undefined, 'acme');
      const nap = await queen.submit({ jobType: 'nap', org: 'acme' });
      expect((await finished(queen, nap.id)).state).toBe('COMPLETED');
      const [napped] = await quotas.usage('acme', Date.now());
      expect(napped!.used * 3600).toBeLessThan(0.05);
      const one = await queen.submit({ jobType: 'spin', org: 'acme' });
      expect((await finished(queen, one.id)).state).toBe('COMPLETED');
      const [usage] = await quotas.usage('acme', Date.now());
      expect(usage!.used * 3600).toBeGreaterThanOrEqual(0.1);
      const next = await queen.submit({ jobType: 'spin', org: 'acme' });
      const status = await until(async () => {
        const s = await queen.schedulingStatus(next.id);
        return s?.heldBy === 'quota' ? s : undefined;
      });
      expect(status.reason).toMatch(/^held: org acme at quota 0\.000\d+\/0\.0000278 CPU-hours per day$/);
      expect(status.retryAt).toBe(new Date(periodEnd('daily', Date.now())).toISOString());
      expect((await queen.getJob(next.id))?.state).toBe('PENDING');
      // An attempt whose CPU time was not measured (here: one killed with SIGKILL) is charged its wall-clock time.
      await queen.cancel(next.id);
      await quotas.setLimit({ org: 'acme', resource: 'cpu_hours', hard: 1, period: 'daily' }, new Date());
      await queen.applyDefinition(
        `job_type: stubborn\ntasks:\n  - task_type: a\n    method: SHELL\n    timeout: 300ms\n    script: ["trap '' TERM", "sleep 30"]\n`,
        undefined,
        'acme',
      );
      const stubborn = await queen.submit({ jobType: 'stubborn', org: 'acme' });
      expect((await finished(queen, stubborn.id)).state).toBe('FAILED');
      const [after] = await quotas.usage('acme', Date.now());
      expect((after!.used - usage!.used) * 3600).toBeGreaterThanOrEqual(0.3);

      await quotas.setLimit({ org: 'acme', resource: 'artifact_bytes', hard: 1000, soft: 500 }, new Date());
      const file = (path: string, size: number) => ({ path, digest: `sha256:${'0'.repeat(64)}`, size, mode: 0o644 });
      await store.artifacts().record(one.id, 'a', 1, { files: [file('big.bin', 600)], missing: [] }, new Date());
      expect((await quotas.artifactBreaches(one.id, 300, Date.now())).map((b) => [b.level, b.message])).toEqual([
        ['soft', 'org acme at soft quota 900/500 artifact bytes'],
      ]);
      expect((await quotas.artifactBreaches(one.id, 500, Date.now())).map((b) => [b.level, b.message])).toEqual([
        ['hard', 'org acme at quota 1100/1000 artifact bytes'],
      ]);
      // Expired artifacts no longer count.
      await store.artifacts().record(one.id, 'a', 1, { files: [file('old.bin', 900)], missing: [], expiresAt: 1 }, new Date());
      expect((await quotas.usage('acme', Date.now())).find((u) => u.resource === 'artifact_bytes')?.used).toBe(600);
    } finally {
      await queen.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('soft quota warnings on a served queen', () => {
  const start = servers();
  it('are an audit row and a metric besides the timeline reason', async () => {
    const { server } = await start({ auth: true });
    const token = server.auth?.bootstrapToken as string;
    const headers = { authorization: `Bearer ${token}` };
    await apply(server.url, 'job_type: quick\ntasks:\n  - task_type: a\n    script: ["true"]\n', headers);
    expect((await req(server, 'PUT', '/api/quotas', token, { resource: 'running_jobs', soft: 0 })).status).toBe(200);
    const job = await submit(server.url, 'quick', {}, headers);
    expect(await waitForEnd(server.url, job.id, headers)).toBe('COMPLETED');
    const detail = await req(server, 'GET', `/api/jobs/requests/${job.id}`, token);
    const admitted = detail.body.timeline.find((e: { to: string; task_type?: string }) => e.to === 'READY' && e.task_type === undefined);
    expect(admitted.reason).toBe('admitted over soft quota: org default at soft quota 1/0 running jobs');
    const audited = async () =>
      ((await req(server, 'GET', '/api/audit', token)).body.items as { action: string; target: string; detail?: { quota: string } }[]).find(
        (row) => row.action === 'quota.soft-exceeded',
      );
    await expect.poll(audited, { timeout: 10_000 }).toMatchObject({
      target: `job/${job.id}`,
      detail: { quota: 'org default at soft quota 1/0 running jobs' },
    });
    const metrics = await fetch(`${server.url}/metrics`, { headers });
    expect(await metrics.text()).toMatch(/^myrmex_quota_soft_exceeded_total\{org="default",resource="running_jobs"\} 1$/m);
  });
});

describe('quota API', () => {
  it('an admin sets quotas, members read them with usage, bad input names its field', async () => {
    const api = await openSecured();
    try {
      const admin = api.auth.bootstrapToken!;
      const set = await req(api, 'PUT', '/api/quotas', admin, { resource: 'running_jobs', hard: 10, soft: 8 });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ resource: 'running_jobs', hard: 10, soft: 8, used: 0 });
      const cpu = await req(api, 'PUT', '/api/quotas', admin, { resource: 'cpu_hours', hard: 5, period: 'monthly' });
      expect(cpu.body).toMatchObject({ resource: 'cpu_hours', hard: 5, period: 'monthly', used: 0 });
      const listed = await req(api, 'GET', '/api/quotas', admin);
      expect(listed.body.org).toBe('default');
      expect(listed.body.items.map((q: { resource: string }) => q.resource).sort()).toEqual(['cpu_hours', 'running_jobs']);
      const bad = await req(api, 'PUT', '/api/quotas', admin, { resource: 'running_jobs', hard: 2, soft: 3 });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ field: 'soft', in: 'body', message: 'soft: must not be above hard (2)' }]);
      const stranger = await req(api, 'PUT', '/api/quotas', admin, { resource: 'running_jobs', user: 'nobody', hard: 1 });
      expect(stranger.status).toBe(404);
      // A member's own quota counts the jobs their token submits, and says whose quota holds one.
      expect((await req(api, 'POST', '/api/users', admin, { id: 'bob', role: 'operator' })).status).toBe(201);
      const bob = (await req(api, 'POST', '/api/tokens', admin, { name: 'bob', scopes: ['read', 'submit'], user_id: 'bob' })).body.token;
      expect((await req(api, 'PUT', '/api/quotas', admin, { resource: 'running_jobs', user: 'bob', hard: 0 })).status).toBe(200);
      expect((await req(api, 'POST', '/api/jobs/definitions', admin, DEFINITION('quick'))).status).toBe(201);
      const held = (await req(api, 'POST', '/api/jobs/requests', bob, { job_type: 'quick' })).body.id as string;
      const reason = async () => (await req(api, 'GET', `/api/jobs/requests/${held}/scheduling`, bob)).body.reason;
      await expect.poll(reason, { timeout: 10_000 }).toBe('held: user bob of org default at quota 0/0 running jobs');
      const ours = (await req(api, 'POST', '/api/jobs/requests', admin, { job_type: 'quick' })).body.id as string;
      await expect
        .poll(async () => (await req(api, 'GET', `/api/jobs/requests/${ours}`, admin)).body.state, { timeout: 20_000 })
        .toBe('COMPLETED');
      expect((await req(api, 'GET', `/api/jobs/requests/${held}`, admin)).body.state).toBe('PENDING');
      const removed = await req(api, 'PUT', '/api/quotas', admin, { resource: 'cpu_hours' });
      expect(removed.status).toBe(200);
      expect((await req(api, 'GET', '/api/quotas', admin)).body.items).toHaveLength(2);
    } finally {
      await api.close();
    }
  });
});
