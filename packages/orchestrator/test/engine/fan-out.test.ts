import { writeFileSync } from 'node:fs';
import { checkJobDefinition } from '@myrmex/orchestrator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fanOutItems } from '../../src/engine/fan-out.js';
import { childJobId } from '../../src/queen/forks.js';
import { finished, Meter, source, startQueen, TEST_METHODS, taskStates, tempDb, until } from '../queen/helpers.js';

const scope = (params: Record<string, unknown> = {}, jobVariables: Record<string, unknown> = {}) => ({
  params,
  taskVariables: {},
  jobVariables,
  outputs: {},
  builtIns: { JobID: 'j', JobType: 't', JobRetry: 0, TaskType: 'x', TaskRetry: 0 },
});

describe('fan_out items', () => {
  it('a matrix gives every combination, keys in the order written', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), fc.array(fc.integer(), { maxLength: 4 }), { maxKeys: 4 }),
        (matrix) => {
          const { items } = fanOutItems({ matrix }, scope());
          const lists = Object.values(matrix);
          expect(items).toHaveLength(lists.reduce((n, list) => n * list.length, 1));
          for (const item of items) expect(Object.keys(item as object)).toEqual(Object.keys(matrix));
          expect(new Set(items.map((item) => JSON.stringify(item))).size).toBe(
            // Repeated values in one list repeat combinations; distinct ones never do.
            Object.values(matrix).reduce((n, list) => n * new Set(list).size, 1),
          );
        },
      ),
    );
  });

  it('source reads a JSON array from a param or variable, and names the field when there is none', () => {
    expect(fanOutItems({ source: 'regions' }, scope({}, { regions: '["a","b"]' })).items).toEqual(['a', 'b']);
    expect(fanOutItems({ source: 'regions' }, scope({ regions: '["c"]' }, { regions: '["a","b"]' })).items).toEqual(['c']);
    expect(fanOutItems({ source: 'list' }, scope({}, { list: [1, { x: 2 }] })).items).toEqual([1, { x: 2 }]);
    expect(() => fanOutItems({ source: 'regions' }, scope({}, { regions: 'us-east-1' }))).toThrow(
      `fan_out.source 'regions' holds no JSON array: "us-east-1"`,
    );
    expect(() => fanOutItems({ source: 'missing' }, scope())).toThrow(`unknown template variable 'missing'`);
    expect(() => fanOutItems({}, scope())).toThrow('fan_out names no list');
  });

  it('validation: one list, a method that can repeat, fork_job_type only on FORK_JOB, no artifacts', () => {
    const messages = (task: Record<string, unknown>) => {
      const result = checkJobDefinition(JSON.stringify({ job_type: 'f', tasks: [{ task_type: 't', ...task }] }), {
        fileName: 'f.json',
        methods: [...TEST_METHODS, 'MANUAL', 'FORK_JOB'],
      });
      return result.ok ? [] : result.errors.map((e) => e.message);
    };
    expect(messages({ method: 'TEST', script: ['x'], fan_out: { item_var: 'i' } })).toEqual([
      'tasks[0].fan_out: needs the list it runs over: source, items or matrix',
    ]);
    expect(messages({ method: 'TEST', script: ['x'], fan_out: { source: 's', items: [1] } })).toEqual([
      'tasks[0].fan_out.items: fan_out takes one list, not source and items',
    ]);
    expect(messages({ method: 'TEST', script: ['x'], fan_out: { items: [1], fork_job_type: 'c' } })).toEqual([
      "tasks[0].fan_out.fork_job_type: fan_out.fork_job_type forks jobs: the task's method must be FORK_JOB, not TEST",
    ]);
    expect(messages({ method: 'MANUAL', fan_out: { items: [1] } })).toEqual([
      'tasks[0].fan_out: fan_out cannot repeat a MANUAL task per item',
    ]);
    expect(messages({ method: 'TEST', script: ['x'], fan_out: { items: [1] }, artifacts: { paths: ['a'] } })).toEqual([
      'tasks[0].artifacts: artifacts is not collected from fan_out children (not built yet)',
    ]);
    expect(messages({ method: 'FORK_JOB', fan_out: { items: [1], fork_job_type: 'c' } })).toEqual([]);
  });
});

describe('task fan-out', () => {
  it('runs one child per item, at most max_parallel at once, and the next task reads their prefixed outputs', async () => {
    const meter = new Meter();
    const queen = await startQueen({ meter });
    await queen.applyDefinition(
      source(
        'fan',
        [
          { task_type: 'setup', script: ['log setting up'], on_completed: 'deploy' },
          {
            task_type: 'deploy',
            environment: { KEY: 'deploy' },
            fan_out: { source: 'regions', item_var: 'region', max_parallel: 2 },
            script: ['sleep 100', 'log deploying to {{.region}}', 'out where {{.region}}-{{.Suffix}}'],
            on_completed: 'report',
          },
          { task_type: 'report', script: ['log {{.FanOutItemCount}} {{.FanOutMode}} {{.region_0_status}} {{.region_3_where}}'] },
        ],
        { job_variables: { regions: '["us","eu","ap","sa"]', Suffix: 'ok' } },
      ),
    );
    const job = await finished(queen, (await queen.submit({ jobType: 'fan' })).id);
    expect(job.state).toBe('COMPLETED');
    expect(meter.max.get('deploy')).toBe(2);
    const deploy = job.tasks.find((t) => t.taskType === 'deploy')!;
    expect(deploy.attempts).toHaveLength(1);
    expect(deploy.outputs).toMatchObject({
      FanOutItemCount: '4',
      FanOutSource: 'regions',
      FanOutMode: 'task',
      region_0_status: 'COMPLETED',
      region_0_exit_code: '0',
      region_2_where: 'ap-ok',
      region_3_where: 'sa-ok',
    });
    const lines = (await queen.logs(job.id, { taskType: 'deploy' })).filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(lines.sort()).toEqual([
      '[region_0] deploying to us',
      '[region_1] deploying to eu',
      '[region_2] deploying to ap',
      '[region_3] deploying to sa',
    ]);
    const report = (await queen.logs(job.id, { taskType: 'report' })).filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(report).toEqual(['4 task COMPLETED sa-ok']);
  });

  it('a failed child fails the task after every child ran, unless success_threshold allows it; fail_fast starts no more', async () => {
    const queen = await startQueen();
    const fan = (jobType: string, fanOut: Record<string, unknown>) =>
      queen.applyDefinition(
        source(jobType, [
          {
            task_type: 'run',
            fan_out: { item_var: 'code', max_parallel: 1, ...fanOut },
            script: ['exit {{.code}}'],
            on_exit_code: { FAILED: 'after' },
          },
          { task_type: 'after', script: ['log {{.code_1_status}} {{.code_2_status}}'] },
        ]),
      );
    await fan('all-run', { items: [0, 3, 0] });
    await fan('threshold', { items: [0, 3, 0], success_threshold: 60 });
    await fan('fail-fast', { items: [0, 3, 0], fail_fast: true });

    const allRun = await finished(queen, (await queen.submit({ jobType: 'all-run' })).id);
    const run = allRun.tasks.find((t) => t.taskType === 'run')!;
    expect(run.state).toBe('COMPLETED'); // routed by on_exit_code FAILED, as fan-out-deploy.yaml does
    expect(run.attempts[0]!.reason).toContain('fan-out: 2 of 3 children completed, 100% needed (code_1 FAILED)');
    expect(run.outputs).toMatchObject({
      code_0_status: 'COMPLETED',
      code_1_status: 'FAILED',
      code_1_exit_code: '3',
      code_2_status: 'COMPLETED',
    });
    expect(taskStates(allRun)).toEqual({ run: 'COMPLETED', after: 'COMPLETED' });

    const threshold = await finished(queen, (await queen.submit({ jobType: 'threshold' })).id);
    expect(threshold.tasks.find((t) => t.taskType === 'run')!.attempts[0]!.exitCode).toBe(0);

    const failFast = await finished(queen, (await queen.submit({ jobType: 'fail-fast' })).id);
    expect(failFast.tasks.find((t) => t.taskType === 'run')!.outputs).toMatchObject({
      code_1_status: 'FAILED',
      code_2_status: 'CANCELLED',
      code_2_error_message: 'not started: fail_fast: code_1 (3) ended FAILED',
    });
    const after = (await queen.logs(failFast.id, { taskType: 'after' })).filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(after).toEqual(['FAILED CANCELLED']);
  });

  it("a retry runs again only the children that did not complete, and keeps the others' outputs", async () => {
    const meter = new Meter();
    const queen = await startQueen({ meter });
    await queen.applyDefinition(
      source('retried', [
        // The item is the exit code per attempt: child 1 fails its first attempt, then succeeds.
        {
          task_type: 'run',
          retry: 1,
          fan_out: { items: ['0', '1,0', '0'], item_var: 'code' },
          script: ['out seen {{.code}}', 'exits {{.code}}'],
        },
      ]),
    );
    const job = await finished(queen, (await queen.submit({ jobType: 'retried' })).id);
    expect(job.state).toBe('COMPLETED');
    const run = job.tasks[0]!;
    expect(run.attempts.map((a) => a.state)).toEqual(['FAILED', 'COMPLETED']);
    const ran = (index: number) => meter.order.filter((entry) => entry === `${job.id}/run[${index}]`).length;
    expect([ran(0), ran(1), ran(2)]).toEqual([1, 2, 1]);
    expect(run.outputs).toMatchObject({
      code_0_status: 'COMPLETED',
      code_0_seen: '0',
      code_0_item: '0',
      code_1_status: 'COMPLETED',
      code_1_seen: '1,0',
      code_2_seen: '0',
    });
    const system = (await queen.logs(job.id, { taskType: 'run' })).filter((l) => l.stream === 'system').map((l) => l.text);
    expect(system).toContain('code_0 (0) COMPLETED in an earlier attempt: not run again');
  });

  it('a source that holds no list fails the attempt with a message naming fan_out.source', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('bad-source', [{ task_type: 'run', fan_out: { source: 'Items' }, script: ['log {{.item}}'] }]));
    const job = await finished(queen, (await queen.submit({ jobType: 'bad-source', params: { Items: 'a,b' } })).id);
    expect(job.state).toBe('FAILED');
    expect(job.tasks[0]!.attempts[0]!.reason).toContain(`fan_out.source 'Items' holds no JSON array: "a,b"`);
  });
});

describe('job fan-out', () => {
  const CHILD = source('child', [{ task_type: 'work', script: ['sleep {{.Sleep}}', 'out Rows rows-{{.dataset}}', 'exit {{.Code}}'] }]);
  const PARENT = `job_type: parent
tasks:
- task_type: process
  method: FORK_JOB
  fan_out:
    source: datasets
    item_var: dataset
    fork_job_type: child
    max_parallel: 2
  sub_workflow:
    input_params:
      - { name: Sleep, value: "{{.Sleep}}" }
      - { name: Code, value: "{{.Code}}" }
    output_variables:
      - { name: Rows, value: row_count }
`;

  it('forks one child per item with the item as a param, maps outputs per child, and joins them', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(CHILD);
    await queen.applyDefinition(PARENT);
    const parent = await finished(
      queen,
      (await queen.submit({ jobType: 'parent', params: { datasets: '["sales","stock","orders"]', Sleep: 0, Code: 0 } })).id,
    );
    expect(parent.state).toBe('COMPLETED');
    const outputs = parent.tasks[0]!.outputs;
    expect(outputs).toMatchObject({
      FanOutMode: 'job',
      FanOutItemCount: '3',
      dataset_0_status: 'COMPLETED',
      dataset_1_row_count: 'rows-stock',
      dataset_2_Rows: 'rows-orders',
    });
    for (const [index, dataset] of ['sales', 'stock', 'orders'].entries()) {
      // The child's id follows from the parent, the task, the index and the job retry: a re-run finds it.
      const id = childJobId(parent.id, `process[${index}]`, 0);
      expect(outputs[`dataset_${index}_ForkedJobId`]).toBe(id);
      expect(await queen.getJob(id)).toMatchObject({ jobType: 'child', state: 'COMPLETED', params: { dataset, Sleep: '0', Code: '0' } });
    }
  });

  it('cancelling the parent cancels the children running, and the ones not yet forked are never made', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(CHILD);
    await queen.applyDefinition(PARENT);
    const { id } = await queen.submit({ jobType: 'parent', params: { datasets: '["a","b","c"]', Sleep: 60_000, Code: 0 } });
    const children = [0, 1].map((index) => childJobId(id, `process[${index}]`, 0));
    await until(async () => {
      const states = await Promise.all(children.map(async (child) => (await queen.getJob(child))?.state));
      return states.every((state) => state === 'EXECUTING') ? true : undefined;
    });
    await queen.cancel(id, 'test cancels the parent');
    expect((await finished(queen, id)).state).toBe('CANCELLED');
    for (const child of children) expect((await finished(queen, child)).state).toBe('CANCELLED');
    expect(await queen.getJob(childJobId(id, 'process[2]', 0))).toBeUndefined();
  });

  it('a queen stopping while the fan-out waits leaves the children running; the next attempt, on the next queen, awaits them', async () => {
    const dbPath = tempDb();
    const flag = `${dbPath}.flag`;
    const first = await startQueen({ dbPath, shutdownGraceMs: 200 });
    // The children wait for a flag the test writes once the first queen is gone.
    await first.applyDefinition(`job_type: waiting-child
tasks:
- task_type: work
  retry: 1
  script: ['test -f {{.flag}} || sleep 300', 'echo "::set-output name=Done::{{.dataset}}"']
`);
    await first.applyDefinition(`job_type: waiting-parent
tasks:
- task_type: process
  method: FORK_JOB
  retry: 1
  fan_out: { source: datasets, item_var: dataset, fork_job_type: waiting-child }
  sub_workflow:
    input_params: [{ name: flag, value: "{{.flag}}" }]
`);
    const { id } = await first.submit({ jobType: 'waiting-parent', params: { datasets: '["x","y"]', flag } });
    const children = [0, 1].map((index) => childJobId(id, `process[${index}]`, 0));
    await until(async () => {
      const states = await Promise.all(children.map(async (child) => (await first.getJob(child))?.state));
      return states.every((state) => state === 'EXECUTING') ? true : undefined;
    });
    await first.stop();
    writeFileSync(flag, '');
    const second = await startQueen({ dbPath });
    // Not cancelled: the queen stopped, not the parent job.
    for (const child of children) expect((await second.getJob(child))?.state).not.toBe('CANCELLED');
    const parent = await finished(second, id);
    expect(parent.state).toBe('COMPLETED');
    expect(parent.tasks[0]!.attempts.map((a) => a.state)).toEqual(['FAILED', 'COMPLETED']);
    expect(parent.tasks[0]!.outputs).toMatchObject({ dataset_0_ForkedJobId: children[0], dataset_0_Done: 'x', dataset_1_Done: 'y' });
  });
});
