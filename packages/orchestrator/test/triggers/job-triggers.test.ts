import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SqliteStore } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { derivedId } from '../../src/domain/ids.js';
import { finished, startQueen, tempDb, until } from '../queen/helpers.js';

describe('triggers of type job', () => {
  it("another job's end starts the job once, with params rendered over .Job; states choose which ends count; a filter can refuse", async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`job_type: build
tasks:
- task_type: compile
  method: SHELL
  script: ['exit {{.Code}}']
`);
    await queen.applyDefinition(`job_type: deploy
triggers:
- type: job
  name: after-build
  job_type: build
  filter: '{{ if ne .Job.Params.Branch "wip" }}true{{ end }}'
  params:
    Upstream: '{{ .Job.ID }}'
    Branch: '{{ .Job.Params.Branch }}'
tasks:
- task_type: ship
  method: SHELL
  script: ['echo shipping {{.Branch}} after {{.Upstream}}']
`);
    await queen.applyDefinition(`job_type: cleanup
triggers:
- type: job
  name: on-broken-build
  job_type: build
  states: [FAILED, CANCELLED]
  params:
    Why: '{{ .Job.State }}: {{ .Job.Reason }}'
tasks:
- task_type: tidy
  method: SHELL
  script: ['true']
`);
    const build = await finished(queen, (await queen.submit({ jobType: 'build', params: { Code: 0, Branch: 'main' } })).id);
    expect(build.state).toBe('COMPLETED');
    const deployId = derivedId('trigger', 'deploy', 'after-build', build.id);
    const deploy = await finished(queen, await until(async () => (await queen.getJob(deployId)) && deployId));
    expect(deploy).toMatchObject({ state: 'COMPLETED', params: { Upstream: build.id, Branch: 'main' } });
    expect((await queen.logs(deploy.id, { taskType: 'ship' })).map((l) => l.text)).toContain(`shipping main after ${build.id}`);
    expect((await queen.logs(build.id, { taskType: '@job' })).map((l) => l.text)).toContain(
      `trigger deploy/after-build started job ${deployId}`,
    );

    const broken = await finished(queen, (await queen.submit({ jobType: 'build', params: { Code: 2, Branch: 'main' } })).id);
    expect(broken.state).toBe('FAILED');
    const cleanupId = derivedId('trigger', 'cleanup', 'on-broken-build', broken.id);
    const cleanup = await finished(queen, await until(async () => (await queen.getJob(cleanupId)) && cleanupId));
    expect(cleanup.params.Why).toMatch(/^FAILED: /);

    // A wip build completes, but the filter keeps deploy away; cleanup follows failures only. Nothing else ever appears.
    const wip = await finished(queen, (await queen.submit({ jobType: 'build', params: { Code: 0, Branch: 'wip' } })).id);
    expect(wip.state).toBe('COMPLETED');
    const third = await finished(queen, (await queen.submit({ jobType: 'build', params: { Code: 0, Branch: 'main' } })).id);
    await finished(
      queen,
      await until(async () => {
        const id = derivedId('trigger', 'deploy', 'after-build', third.id);
        return (await queen.getJob(id)) && id;
      }),
    );
    const types = (await queen.listJobs({ limit: 100 })).items.map((j) => j.jobType).sort();
    expect(types).toEqual(['build', 'build', 'build', 'build', 'cleanup', 'deploy', 'deploy']);
  }, 60_000);
});

describe('a job end no queen followed', () => {
  it("a starting queen starts its trigger and files its notifications and its tasks': a queen killed after the commit left them undone", async () => {
    const hits: string[] = [];
    const server = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ended`;
    try {
      const dbPath = tempDb();
      const first = await startQueen({ dbPath });
      await first.applyDefinition(`job_type: upstream
notify:
  webhook:
    recipients: ['${hook}']
tasks:
- task_type: t
  method: SHELL
  script: ['true']
  webhook:
    url: '${hook}/task'
`);
      await first.applyDefinition(`job_type: downstream
triggers:
- type: job
  name: after-upstream
  job_type: upstream
tasks:
- task_type: t
  method: SHELL
  script: ['true']
`);
      await first.stop();
      // The end as a killed queen leaves it: committed, with nothing after it.
      const store = SqliteStore.open({ path: dbPath });
      const at = new Date();
      const definition = (await store.definition('upstream'))!;
      await store.createJob({
        id: 'ended-upstream',
        jobType: 'upstream',
        version: definition.version,
        priority: 50,
        params: {},
        submittedAt: at,
        scheduledAt: at,
        taskTypes: ['t'],
      });
      expect(
        await store.apply('ended-upstream', {
          at,
          job: { state: 'COMPLETED', reason: 'done elsewhere', endedAt: at },
          tasks: [{ taskType: 't', state: 'COMPLETED', reason: 'done elsewhere' }],
        }),
      ).toBeDefined();
      await store.close();

      const second = await startQueen({ dbPath });
      const downstream = derivedId('trigger', 'downstream', 'after-upstream', 'ended-upstream');
      expect((await finished(second, await until(async () => (await second.getJob(downstream)) && downstream))).state).toBe('COMPLETED');
      // The job's own notification and its task's webhook, which the killed queen had not filed either.
      await until(async () => {
        const rows = await second.notifications('ended-upstream');
        return rows.length === 2 && rows.every((r) => r.state === 'SENT') ? true : undefined;
      });
      expect(hits.sort()).toEqual(['/ended', '/ended/task']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
