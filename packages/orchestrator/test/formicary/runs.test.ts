import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ANT_LABEL, type ApprovalWire, createApi, type JobDetail, Queen } from '@myrmex/orchestrator';
import { nats } from '@myrmex/test-utils';
import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cronSchedule } from '../../src/definition/cron.js';
import { cronJobId } from '../../src/queen/cron.js';
import { LOCAL_IMAGE, PODMAN_SOCKET, podmanGate } from '../executors/podman.js';
import { finished, taskStates, until } from '../queen/helpers.js';
import { CORPUS_DIR } from './corpus.js';
import { CORPUS_RUNS, MISSING_CHILD_TYPE } from './runs.js';

/**
 * Formicary's definitions run end to end through a queen: applied as written (adaptations are
 * listed in runs.ts and made here), submitted, executed by the embedded ant on SHELL, on Podman
 * for DOCKER and KUBERNETES (the ant serves KUBERNETES on its container engine), and over NATS
 * JetStream for MESSAGING, then finished.
 */
const podman = await podmanGate();
const natsGate = await nats();
const ANT = `corpus-ant-${process.pid}`;
// Several suites share one Podman service on a loaded 2-core CI box: a chain of five containers
// took over 60 s there, against 8 s alone. These are budgets, not waits.
const CONTAINER_BUDGET_MS = 170_000;
const CONTAINER_TEST_MS = 180_000;

const read = (file: string) => readFileSync(join(CORPUS_DIR, file), 'utf8');
const lines = async (queen: Queen, job: JobDetail, taskType: string) =>
  (await queen.logs(job.id, { taskType })).filter((line) => line.stream === 'stdout').map((line) => line.text);

/** A vote the test casts through the API on a MANUAL task, once that task waits. */
type Vote = readonly [task: string, action: 'approve' | 'reject', approver: string];

/** The approval examples: who votes what, and the task states Formicary would end with. */
const APPROVAL_RUNS: readonly { jobType: string; votes: readonly Vote[]; tasks: Record<string, string> }[] = [
  {
    jobType: 'semi-automated',
    votes: [
      ['make-doe', 'approve', 'chef'],
      ['check-doe', 'approve', 'ann'],
      ['check-doe', 'approve', 'bob'],
    ],
    tasks: { start: 'COMPLETED', 'make-doe': 'COMPLETED', cook: 'COMPLETED', 'check-doe': 'COMPLETED', serve: 'COMPLETED' },
  },
  {
    jobType: 'approval-auto-reject-demo',
    votes: [['hotfix-approval', 'reject', 'sre']],
    tasks: { 'prepare-hotfix': 'COMPLETED', 'hotfix-approval': 'COMPLETED', 'deploy-hotfix': 'SKIPPED', 'abort-hotfix': 'COMPLETED' },
  },
  {
    jobType: 'approval-unanimous-demo',
    votes: [
      ['board-approval', 'approve', 'ann'],
      ['board-approval', 'approve', 'bob'],
    ],
    tasks: { 'execute-operation': 'COMPLETED', 'cancel-operation': 'SKIPPED' },
  },
  {
    jobType: 'approval-with-sla-demo',
    votes: [['security-approval', 'approve', 'sec']],
    tasks: { 'deploy-prod': 'COMPLETED', 'notify-rejected': 'SKIPPED' },
  },
  {
    // 2 of 3: one rejection does not decide, the second approval does.
    jobType: 'multi-party-approval-demo',
    votes: [
      ['team-approval', 'approve', 'ann'],
      ['team-approval', 'reject', 'bob'],
      ['team-approval', 'approve', 'cat'],
    ],
    tasks: { deploy: 'COMPLETED', 'notify-success': 'COMPLETED', 'notify-rejection': 'SKIPPED' },
  },
  {
    jobType: 'cicd-approval-gate',
    votes: [
      ['production-approval', 'approve', 'ops1'],
      ['production-approval', 'approve', 'sre1'],
    ],
    tasks: { 'deploy-production': 'COMPLETED', 'post-deploy-verification': 'COMPLETED', 'notify-rejection': 'SKIPPED' },
  },
  {
    jobType: 'aws-region-failover',
    votes: [
      ['verify-failover', 'reject', 'cfo'],
      ['verify-failover', 'reject', 'cto'],
    ],
    tasks: {
      'check-primary-status': 'FAILED',
      'provision-secondary-infra': 'COMPLETED',
      'switch-dns': 'SKIPPED',
      'teardown-secondary-infra': 'COMPLETED',
      'notify-completion': 'COMPLETED',
    },
  },
  {
    jobType: 'secure-go-cicd',
    votes: [
      ['verify-production-deploy', 'approve', 'lead'],
      ['verify-production-deploy', 'approve', 'sec'],
    ],
    tasks: { 'deploy-staging': 'COMPLETED', 'promote-production': 'COMPLETED', 'rollback-staging': 'SKIPPED', cleanup: 'COMPLETED' },
  },
];

podman.describe('corpus definitions run end to end (SHELL, DOCKER, KUBERNETES on Podman, MESSAGING)', () => {
  let queen: Queen;
  let api: FastifyInstance;
  let apiUrl: string;
  let dir: string;
  const worker: ChildProcess[] = [];
  // JetStream streams this run creates start with the prefix and are deleted afterwards.
  let prefix = 'myrmex.corpus';
  let disposeStreams = async () => {};
  const natsServers = natsGate.availability.available ? new URL(natsGate.url).host : undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'myrmex-corpus-'));
    if (natsServers !== undefined) {
      const fresh = await natsGate.freshPrefix();
      prefix = fresh.prefix;
      disposeStreams = () => fresh.dispose();
    }
    queen = await Queen.open({
      dbPath: join(dir, 'myrmex.db'),
      ant: { id: ANT, capacity: 4, tags: ['builder', 'pulsar'] },
      pollIntervalMs: 50,
      shutdownGraceMs: 1000,
      // test_job.yaml's job holds 2 License units and its task1 10 NetworkBandwidth units.
      consumables: { License: 2, NetworkBandwidth: 10 },
      executorConfig: {
        container: { socketPath: PODMAN_SOCKET, images: { '*': LOCAL_IMAGE } },
        ...(natsServers === undefined ? {} : { messaging: { servers: natsServers, defaultTimeoutMs: 30_000 } }),
      },
    });
    await queen.start();
    api = await createApi(queen, {});
    apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
    for (const run of CORPUS_RUNS) {
      const source = run.file.endsWith('messaging-job.yaml')
        ? read(run.file).replaceAll('formicary-message-ant-', `${prefix}.formicary-message-ant-`)
        : read(run.file);
      await queen.applyDefinition(source, run.file);
    }
    await queen.applyDefinition(
      `job_type: ${MISSING_CHILD_TYPE}\ntasks:\n- task_type: work\n  script: ['echo "working on {{.dataset}}"']\n`,
    );
  });

  afterAll(async () => {
    for (const child of worker) child.kill('SIGKILL');
    await api?.close();
    await queen?.stop();
    await disposeStreams();
    rmSync(dir, { recursive: true, force: true });
    const left = await new Docker({ socketPath: PODMAN_SOCKET }).listContainers({
      all: true,
      filters: { label: [`${ANT_LABEL}=${ANT}`] },
    });
    expect(left, 'containers left behind').toEqual([]);
  });

  it('shell-job: the ExitCode param routes check-date through on_exit_code to tuesday', async () => {
    const job = await finished(queen, (await queen.submit({ jobType: 'shell-job', params: { ExitCode: 2 } })).id);
    expect(job.state).toBe('COMPLETED');
    expect(taskStates(job)).toMatchObject({
      allocate: 'COMPLETED',
      'check-date': 'COMPLETED',
      tuesday: 'COMPLETED',
      'shell-tuesday': 'COMPLETED',
      deallocate: 'COMPLETED',
    });
    expect(job.tasks.find((t) => t.taskType === 'check-date')?.exitCode).toBe(2);
    expect(await lines(queen, job, 'shell-tuesday')).toEqual(['shell tuesday']);
    expect(['monday', 'friday', 'party'].map((t) => taskStates(job)[t])).not.toContain('COMPLETED');
  });

  it(
    'taco-job: the same routing with every task in a KUBERNETES container on Podman',
    async () => {
      const job = await finished(queen, (await queen.submit({ jobType: 'taco-job', params: { ExitCode: 3 } })).id, CONTAINER_BUDGET_MS);
      expect(job.state).toBe('COMPLETED');
      expect(taskStates(job)).toMatchObject({ allocate: 'COMPLETED', 'check-date': 'COMPLETED', friday: 'COMPLETED' });
      expect(job.tasks.find((t) => t.taskType === 'check-date')?.exitCode).toBe(3);
      expect(await lines(queen, job, 'check-date')).toEqual(['monday']);
    },
    CONTAINER_TEST_MS,
  );

  it(
    "docker-job: DOCKER tasks with after_script; init's artifacts reach always_run cleanup",
    async () => {
      const job = await finished(queen, (await queen.submit({ jobType: 'docker-job' })).id, CONTAINER_BUDGET_MS);
      expect(job.state).toBe('COMPLETED');
      expect(taskStates(job)).toEqual({ init: 'COMPLETED', cleanup: 'COMPLETED' });
      const system = (await queen.logs(job.id, { taskType: 'init' })).filter((l) => l.stream === 'system').map((l) => l.text);
      expect(system).toContain(`image alpine replaced by ${LOCAL_IMAGE} (this ant's image map)`);
      // after_script's `ls -l` lists the files the script wrote.
      expect((await lines(queen, job, 'init')).join('\n')).toMatch(/env\.txt[\s\S]*ls\.txt/);
      // init's artifacts are stored, and cleanup (dependencies: [init]) finds them in its working directory.
      const artifacts = await queen.artifacts(job.id);
      expect(artifacts.map((a) => [a.taskType, a.path])).toEqual([
        ['init', 'env.txt'],
        ['init', 'ls.txt'],
      ]);
      expect(artifacts.every((a) => a.size > 0 && /^sha256:[0-9a-f]{64}$/.test(a.digest))).toBe(true);
      expect((await lines(queen, job, 'cleanup')).join('\n')).toMatch(/env\.txt[\s\S]*ls\.txt/);
    },
    CONTAINER_TEST_MS,
  );

  it(
    'test_job: the job holds its License units from its first task to its end, task1 its NetworkBandwidth units while it runs; all come back',
    async () => {
      const { id } = await queen.submit({ jobType: 'test-job', params: { Nonce: 1, SleepSecs: 1 } });
      const held = await until(async () => {
        const pools = await queen.consumablePools();
        return pools.find((p) => p.name === 'NetworkBandwidth')?.inUse === 10 ? pools : undefined;
      }, CONTAINER_BUDGET_MS);
      expect(held.map((p) => [p.name, p.inUse, p.holders.map((h) => `${h.jobId}/${h.taskType ?? '(job)'}`)])).toEqual([
        ['License', 2, [`${id}/(job)`]],
        ['NetworkBandwidth', 10, [`${id}/task1`]],
      ]);
      const job = await finished(queen, id, CONTAINER_BUDGET_MS);
      expect(job.state).toBe('COMPLETED');
      expect(taskStates(job)).toEqual({ task1: 'COMPLETED', task2: 'COMPLETED', task3: 'COMPLETED' });
      expect((await queen.consumablePools()).map((p) => [p.name, p.inUse])).toEqual([
        ['License', 0],
        ['NetworkBandwidth', 0],
      ]);
    },
    CONTAINER_TEST_MS,
  );

  it(
    'iterate-job: five tasks a {{range}} generated run in their on_completed chain',
    async () => {
      const job = await finished(queen, (await queen.submit({ jobType: 'iterate-job' })).id, CONTAINER_BUDGET_MS);
      expect(job.state).toBe('COMPLETED');
      for (let i = 0; i < 5; i++) expect(await lines(queen, job, `task-${i}`)).toEqual([`executing task for ${i}`]);
      const ended = job.tasks.map((t) => [t.taskType, t.attempts[0]!.endedAt!.getTime()] as const).sort((a, b) => a[1] - b[1]);
      expect(ended.map(([t]) => t)).toEqual(['task-0', 'task-1', 'task-2', 'task-3', 'task-4']);
    },
    CONTAINER_TEST_MS,
  );

  it(
    'kube-example2: a KUBERNETES pod with cpu and memory limits and pod_labels runs on Podman',
    async () => {
      const docker = new Docker({ socketPath: PODMAN_SOCKET });
      const { id } = await queen.submit({ jobType: 'kube-example2' });
      // While it sleeps, its container carries the limits and the pod's labels.
      const running = await until(async () => {
        const [found] = await docker.listContainers({ filters: { label: [`${ANT_LABEL}=${ANT}`, `io.myrmex.job=${id}`] } });
        return found;
      }, CONTAINER_BUDGET_MS);
      const inspected = await docker.getContainer(running.Id).inspect();
      expect(inspected.Config.Labels).toMatchObject({ foor: 'bar' });
      expect(inspected.HostConfig.NanoCpus).toBe(1e9);
      expect(inspected.HostConfig.Memory).toBe(2 * 1024 ** 3);
      const job = await finished(queen, id, CONTAINER_BUDGET_MS);
      expect(job.state).toBe('COMPLETED');
      expect(await lines(queen, job, 'kubby')).toContain('hello world');
    },
    CONTAINER_TEST_MS,
  );

  it(
    'optional-task: a failing allow_failure task does not fail the job',
    async () => {
      const job = await finished(queen, (await queen.submit({ jobType: 'optional-task' })).id, CONTAINER_BUDGET_MS);
      expect(job.state).toBe('COMPLETED');
      expect(taskStates(job)).toEqual({ first: 'COMPLETED', second: 'FAILED', third: 'COMPLETED' });
      // busybox has no `fail`: the shell's "not found" exit code is kept.
      expect(job.tasks.find((t) => t.taskType === 'second')?.exitCode).toBe(127);
    },
    CONTAINER_TEST_MS,
  );

  it(
    'sleep-job: cancelling the job stops and removes its container',
    async () => {
      const docker = new Docker({ socketPath: PODMAN_SOCKET });
      const { id } = await queen.submit({ jobType: 'sleep-job' });
      await until(async () => {
        const running = await docker.listContainers({ filters: { label: [`${ANT_LABEL}=${ANT}`, `io.myrmex.job=${id}`] } });
        return running.length > 0 ? true : undefined;
      }, CONTAINER_BUDGET_MS);
      await queen.cancel(id, 'test cancels the sleep');
      const job = await finished(queen, id);
      expect(job.state).toBe('CANCELLED');
      await until(async () => {
        const left = await docker.listContainers({ all: true, filters: { label: [`io.myrmex.job=${id}`] } });
        return left.length === 0 ? true : undefined;
      }, 30_000);
    },
    CONTAINER_TEST_MS,
  );

  it('sub-workflow children and versioned-job: SHELL with params and sem_version', async () => {
    const child = await finished(
      queen,
      (await queen.submit({ jobType: 'io.formicary.examples.child-etl', params: { source_table: 'orders', batch_size: 500 } })).id,
    );
    expect(child.state).toBe('COMPLETED');
    expect(await lines(queen, child, 'extract')).toEqual(['Extracting from table=orders batch_size=500']);
    const fixture = await finished(
      queen,
      (await queen.submit({ jobType: 'io.formicary.test.child-etl-workflow', params: { source_table: 't', batch_size: 9 } })).id,
    );
    expect(fixture.state).toBe('COMPLETED');
    expect(await lines(queen, fixture, 'etl-step')).toEqual(['processing table=t batch=9', 'done']);
    const versioned = await finished(queen, (await queen.submit({ jobType: 'versioned-job' })).id);
    expect(versioned.state).toBe('COMPLETED');
    expect(await lines(queen, versioned, 'step-one')).toEqual(['Running step-one at version 1.0.0']);
  });

  it('sub-workflow-etl and sub_workflow_job: a FORK_JOB sub_workflow runs the child (found by sem_version) and waits', async () => {
    for (const [parentType, childType, fork] of [
      ['io.formicary.examples.parent-etl', 'io.formicary.examples.child-etl', 'run-child-etl'],
      ['io.formicary.test.parent-etl-workflow', 'io.formicary.test.child-etl-workflow', 'run-child-etl'],
    ] as const) {
      const parent = await finished(
        queen,
        (await queen.submit({ jobType: parentType, params: { source_table: 'orders', batch_size: 7 } })).id,
      );
      expect(parent.state, parentType).toBe('COMPLETED');
      const childId = parent.tasks.find((t) => t.taskType === fork)!.outputs.ForkedJobId!;
      expect(await queen.getJob(childId)).toMatchObject({
        jobType: childType,
        state: 'COMPLETED',
        params: { source_table: 'orders', batch_size: '7' },
      });
    }
  });

  it('webhook-ci-trigger: a push delivered to its webhook starts the pipeline once, with the params its trigger renders', async () => {
    const push = { ref: 'refs/heads/main', head_commit: { id: 'c0ffee' }, repository: { full_name: 'acme/api' } };
    const deliver = () =>
      fetch(`${apiUrl}/api/webhooks/webhook-ci-trigger/on-push-dev`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-delivery': 'corpus-delivery-1' },
        body: JSON.stringify(push),
      });
    const first = await deliver();
    expect(first.status).toBe(202);
    const { job_id: jobId } = (await first.json()) as { job_id: string };
    expect((await deliver()).status).toBe(409);
    const job = await finished(queen, jobId);
    expect(job).toMatchObject({ state: 'COMPLETED', params: { branch: 'main', commit_sha: 'c0ffee', repo: 'acme/api', pusher: 'dev' } });
    expect(await lines(queen, job, 'notify')).toEqual(['CI complete for acme/api commit=c0ffee branch=main']);
  });

  it(
    "hello_world: combine's {{if lt .JobRetry 4}} is rendered per run, so it fails on each of its three runs (retry: 2) and the job is a dead letter",
    async () => {
      const job = await finished(
        queen,
        (await queen.submit({ jobType: 'hello_world', params: { Target: 'bob' } })).id,
        CONTAINER_BUDGET_MS,
      );
      expect(job).toMatchObject({ state: 'FAILED', retry: 2 });
      expect(taskStates(job)).toEqual({ hello: 'COMPLETED', world: 'COMPLETED', combine: 'FAILED' });
      expect(job.tasks.find((t) => t.taskType === 'combine')!.attempts).toHaveLength(3);
      expect((await queen.deadLetters()).items.map((item) => item.job.id)).toContain(job.id);
    },
    CONTAINER_TEST_MS,
  );

  it(
    "hook-job: init's task webhook posts its outcome to the URL its params give, with the header and query it names",
    async () => {
      const hits: { url: string; authorization?: string; body: Record<string, unknown> }[] = [];
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          hits.push({
            url: request.url ?? '',
            ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          });
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const params = { WebhookURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, WebhookAuth: 't0k' };
        const job = await finished(queen, (await queen.submit({ jobType: 'hook-job', params })).id, CONTAINER_BUDGET_MS);
        expect(job.state).toBe('COMPLETED');
        await until(async () => ((await queen.notifications(job.id))[0]?.state === 'SENT' ? true : undefined));
        expect(hits).toEqual([
          {
            url: '/hook?task_key=task_value',
            authorization: 'Bearer t0k',
            body: expect.objectContaining({ job_id: job.id, task_type: 'init', task_state: 'COMPLETED', exit_code: 0 }),
          },
        ]);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
    CONTAINER_TEST_MS,
  );

  it('trigger-started SHELL pipelines run with their trigger params; artifacts reach their dependents', async () => {
    // What an S3 or queue trigger would pass (those triggers are not built), and the signed webhook's params.
    const params = {
      object_key: 'raw/2026/a.parquet',
      bucket_name: 'data-warehouse',
      size_bytes: 1024,
      etag: 'e1',
      repo: 'acme/app',
      branch: 'main',
      commit_sha: 'abc123',
      pusher: 'dev',
      order_id: 'o-7',
      customer_name: 'Ada',
      total: 42,
      currency: 'EUR',
    };
    for (const jobType of ['s3-etl-trigger', 'queue-order-trigger', 's3-file-processor', 'webhook-triggered-pipeline']) {
      const job = await finished(queen, (await queen.submit({ jobType, params })).id);
      expect(job.state, `${jobType}: ${JSON.stringify(job.tasks.map((t) => [t.taskType, t.state, t.reason]))}`).toBe('COMPLETED');
      expect((await queen.artifacts(job.id)).length, jobType).toBeGreaterThan(0);
    }
    const etl = (await queen.listJobs({ limit: 1000 })).items.find((j) => j.jobType === 's3-etl-trigger')!;
    expect(await lines(queen, (await queen.getJob(etl.id))!, 'load')).toEqual(['Loading results for raw/2026/a.parquet', 'transformed']);
  });

  it('child_job: tagged SHELL tasks; unit-tests concatenates the files build left', async () => {
    const job = await finished(queen, (await queen.submit({ jobType: 'child-job' })).id);
    expect(job.state).toBe('COMPLETED');
    const listed = await queen.artifacts(job.id);
    expect(listed.map((a) => [a.taskType, a.path])).toEqual([
      ['build', 'env.txt'],
      ['build', 'ls.txt'],
      ['unit-tests', 'all.txt'],
    ]);
    // whoami.txt is listed in the definition but never written: logged, not fatal (as in Formicary).
    const system = (await queen.logs(job.id, { taskType: 'build' })).filter((l) => l.stream === 'system').map((l) => l.text);
    expect(system).toContain('artifact path whoami.txt not found after the task');
    const all = listed.find((a) => a.path === 'all.txt')!;
    expect(all.size).toBe(listed.filter((a) => a.taskType === 'build').reduce((sum, a) => sum + a.size, 0));
  });

  /** Fires the cron slot that follows the latest version of `jobType`, as the queen's loop would when it comes; returns its job. */
  const fireNextSlot = async (jobType: string) => {
    const latest = (await queen.listDefinitions()).find((d) => d.jobType === jobType)!;
    const slot = cronSchedule(latest.definition.cronTrigger!).nextRun(latest.createdAt)!;
    const id = cronJobId(jobType, slot);
    // The queen's own loop may reach a slot first when the suite is slow; either way it has one job.
    await queen.fireCron(slot);
    expect(await queen.fireCron(slot)).not.toContain(id);
    return finished(queen, id, CONTAINER_BUDGET_MS);
  };

  it('artifacts-expiration: its hourly cron_trigger submits the EXPIRE_ARTIFACTS housekeeping task', async () => {
    const job = await fireNextSlot('artifacts-expiration');
    expect(job.state).toBe('COMPLETED');
    expect(await lines(queen, job, 'expire')).toEqual([expect.stringMatching(/^expired \d+ artifact file\(s\); removed \d+ blob\(s\)/)]);
  });

  it('always-run: a failing checkout fails the job, and its always_run tasks still run in their chain', async () => {
    const job = await finished(queen, (await queen.submit({ jobType: 'shell-build' })).id);
    expect(job.state).toBe('FAILED');
    expect(taskStates(job)).toEqual({
      init: 'COMPLETED',
      checkout: 'FAILED',
      build: 'SKIPPED',
      test: 'SKIPPED',
      deploy: 'SKIPPED',
      notify: 'COMPLETED',
      email: 'COMPLETED',
    });
    expect(await lines(queen, job, 'email')).toEqual(['email']);
  });

  it('task fan-out examples: one SHELL child per region, at most max_parallel at once, results under region_<i>_*', async () => {
    const runs = [
      { jobType: 'fan-out-task-regions', task: 'deploy', itemVar: 'region', items: ['us-east-1', 'us-west-2', 'eu-west-1'] },
      {
        jobType: 'fan-out-deploy',
        task: 'deploy',
        itemVar: 'region',
        items: ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'eu-central-1'],
      },
      { jobType: 'io.formicary.test.fan-out-deploy', task: 'deploy', itemVar: 'region', items: ['us-east-1', 'us-west-2', 'eu-west-1'] },
      { jobType: 'io.formicary.test.fan-out-task', task: 'process', itemVar: 'item', items: ['a', 'b', 'c'] },
    ];
    for (const { jobType, task, itemVar, items } of runs) {
      const job = await finished(queen, (await queen.submit({ jobType })).id);
      expect(job.state, jobType).toBe('COMPLETED');
      const fanned = job.tasks.find((t) => t.taskType === task)!;
      expect(fanned.outputs, jobType).toMatchObject({ FanOutItemCount: String(items.length), FanOutMode: 'task' });
      for (const index of items.keys()) expect(fanned.outputs[`${itemVar}_${index}_status`], jobType).toBe('COMPLETED');
      const said = (await lines(queen, job, task)).join('\n');
      for (const [index, item] of items.entries()) expect(said, jobType).toMatch(new RegExp(`^\\[${itemVar}_${index}\\] .*${item}`, 'm'));
      // max_parallel: 2 bounds the children; the system log says so.
      const system = (await queen.logs(job.id, { taskType: task })).filter((l) => l.stream === 'system').map((l) => l.text);
      expect(system, jobType).toContain(
        `fan-out over ${items.length} item(s) of ${itemVar === 'item' ? 'items' : 'regions'}, at most 2 at once`,
      );
    }
    const regions = (await queen.listJobs({ limit: 1000 })).items.find((j) => j.jobType === 'fan-out-task-regions')!;
    expect((await lines(queen, (await queen.getJob(regions.id))!, 'report')).map((l) => l.trim())).toEqual([
      'All deployments done',
      'total=3 mode=task',
      'region_0_status=COMPLETED',
      'region_1_status=COMPLETED',
      'region_2_status=COMPLETED',
    ]);
    const fixture = (await queen.listJobs({ limit: 1000 })).items.find((j) => j.jobType === 'io.formicary.test.fan-out-task')!;
    expect(await lines(queen, (await queen.getJob(fixture.id))!, 'done')).toEqual(['all done total=3']);
  });

  it('job fan-out examples: one child job per dataset (fork_job_version picks the sem_version), joined before summarize', async () => {
    const etl = await finished(queen, (await queen.submit({ jobType: 'fan-out-job-etl' })).id);
    expect(etl.state).toBe('COMPLETED');
    const process = etl.tasks.find((t) => t.taskType === 'process-datasets')!;
    for (const [index, dataset] of ['sales_2024', 'inventory_2024', 'orders_2024'].entries()) {
      const child = (await queen.getJob(process.outputs[`dataset_${index}_ForkedJobId`]!))!;
      expect(child).toMatchObject({ jobType: 'io.formicary.examples.child-etl', state: 'COMPLETED' });
      // input_params rendered per item: the item and the parent's job variable.
      expect(child.params).toMatchObject({ dataset, source_table: dataset, batch_size: '500' });
      expect(await lines(queen, child, 'extract')).toEqual([`Extracting from table=${dataset} batch_size=500`]);
      // The child sets no row_count output: the mapping leaves etl_row_count empty.
      expect(process.outputs[`dataset_${index}_etl_row_count`]).toBe('');
    }
    expect((await lines(queen, etl, 'summarize')).map((l) => l.trim())).toEqual([
      'ETL fan-out complete',
      'total=3 mode=job',
      'dataset_0_status=COMPLETED',
      'dataset_1_status=COMPLETED',
      'dataset_2_status=COMPLETED',
    ]);

    const forked = await finished(queen, (await queen.submit({ jobType: 'io.formicary.test.fan-out-fork-job' })).id);
    expect(forked.state).toBe('COMPLETED');
    expect(await lines(queen, forked, 'summarize')).toEqual(['done FanOutMode=job count=2']);
    const fork = forked.tasks.find((t) => t.taskType === 'process')!;
    for (const [index, dataset] of ['ds-1', 'ds-2'].entries()) {
      const child = (await queen.getJob(fork.outputs[`dataset_${index}_ForkedJobId`]!))!;
      expect(await lines(queen, child, 'work')).toEqual([`working on ${dataset}`]);
    }
  });

  it(
    'hello_world_scheduled (both versions): the cron slot submits the job, which skip_if skips for Target charlie; Target bob runs it',
    async () => {
      for (const file of ['docs-examples/hello_world_scheduled.yaml', 'fixtures/hello_world_scheduled.yaml']) {
        // Both files define the same job type: each is applied again, as its latest version, before its run.
        await queen.applyDefinition(read(file), file);
        const fired = await fireNextSlot('hello_world_scheduled');
        expect(fired.state, file).toBe('COMPLETED');
        expect(fired.reason, file).toBe('skipped: skip_if is true');
        expect(taskStates(fired), file).toEqual({ hello: 'SKIPPED', world: 'SKIPPED', combine: 'SKIPPED' });
        const bob = await finished(
          queen,
          (await queen.submit({ jobType: 'hello_world_scheduled', params: { Target: 'bob' } })).id,
          CONTAINER_BUDGET_MS,
        );
        expect(bob.state, file).toBe('COMPLETED');
        expect(taskStates(bob), file).toEqual({ hello: 'COMPLETED', world: 'COMPLETED', combine: 'COMPLETED' });
        const output = (await queen.artifacts(bob.id)).find((a) => a.path === 'output.txt');
        // hello.txt ("hello") and world.txt ("bob"), concatenated by combine.
        expect(output?.size, file).toBe('hello\nbob\n'.length);
      }
    },
    CONTAINER_TEST_MS,
  );

  it(
    'approval examples: MANUAL tasks wait for votes cast through the API, and APPROVED/REJECTED route as written',
    async () => {
      const post = async (jobId: string, [task, action, approver]: Vote) => {
        const response = await fetch(`${apiUrl}/api/jobs/requests/${jobId}/tasks/${task}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ approver, comment: `${approver} says ${action}` }),
        });
        expect(response.status, `${task} ${action} by ${approver}: ${await response.clone().text()}`).toBe(200);
        return (await response.json()) as ApprovalWire;
      };
      const waits = async (jobId: string, task: string) => {
        const response = await fetch(`${apiUrl}/api/jobs/requests/${jobId}/approvals`);
        const { items } = (await response.json()) as { items: ApprovalWire[] };
        return items.find((a) => a.task_type === task)?.waiting === true ? true : undefined;
      };
      // All examples at once: their container tasks share the ant's slots.
      await Promise.all(
        APPROVAL_RUNS.map(async ({ jobType, votes, tasks }) => {
          const { id } = await queen.submit({ jobType });
          for (const vote of votes) {
            await until(() => waits(id, vote[0]), CONTAINER_BUDGET_MS).catch(async () => {
              // Say where the job stands: which task never got to its gate.
              const stuck = (await queen.getJob(id))?.tasks.map((t) => [t.taskType, t.state, t.reason, t.attempts.length]);
              throw new Error(`${jobType}: ${vote[0]} never waited for a vote: ${JSON.stringify(stuck)}`);
            });
            await post(id, vote);
          }
          const job = await finished(queen, id, CONTAINER_BUDGET_MS);
          expect(job.state, `${jobType}: ${JSON.stringify(job.tasks.map((t) => [t.taskType, t.state, t.reason]))}`).toBe('COMPLETED');
          expect(taskStates(job), jobType).toMatchObject(tasks);
          // The decision is in the timeline with who decided and their comments; no ant ran the MANUAL task.
          const last = votes.at(-1)!;
          const decided = job.timeline.find((e) => e.taskType === last[0] && e.from === 'READY');
          const outcome = last[1] === 'approve' ? 'APPROVED' : 'REJECTED';
          expect(decided?.reason, jobType).toMatch(
            new RegExp(`^${outcome} by .*${last[2]} \\(.*${last[2]}: ${last[2]} says ${last[1]}\\)$`),
          );
          for (const [task] of votes) expect(job.tasks.find((t) => t.taskType === task)?.attempts, jobType).toEqual([]);
        }),
      );
    },
    CONTAINER_TEST_MS,
  );

  describe.skipIf(natsServers === undefined)('MESSAGING', () => {
    it('messaging-job: an external worker process answers over NATS JetStream', async () => {
      const subject = `${prefix}.formicary-message-ant-request`;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('../executors/messaging-worker.ts', import.meta.url)), natsServers!, subject],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      worker.push(child);
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => line === 'ready' && resolve());
        child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
      const job = await finished(queen, (await queen.submit({ jobType: 'messaging-job' })).id, 60_000);
      expect(job.state).toBe('COMPLETED');
      expect(await lines(queen, job, 'trigger')).toEqual(['worked on trigger attempt 1']);
    });
  });
});
