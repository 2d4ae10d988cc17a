import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childJobId, QueenForks } from '../../src/queen/forks.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { finished, startQueen, taskStates, tempDb, until } from '../queen/helpers.js';

const CHILD = `job_type: child
tasks:
- task_type: work
  method: SHELL
  script:
    - echo "child got {{.Item}}"
    - echo "::set-output name=Result::done-{{.Item}}"
    - test "{{.Item}}" != "bad"
`;

const PARENT = `job_type: parent
tasks:
- task_type: fork-a
  method: FORK_JOB
  fork_job_type: child
  sub_workflow:
    input_params:
      - { name: Item, value: "{{.First}}" }
  on_completed: fork-b
- task_type: fork-b
  method: FORK_JOB
  fork_job_type: child
  sub_workflow:
    input_params:
      - { name: Item, value: "{{.Second}}" }
  on_completed: wait
- task_type: wait
  method: AWAIT_FORKED_JOB
  await_forked_tasks: [fork-a, fork-b]
  on_completed: report
- task_type: report
  method: SHELL
  script: ['echo "last result {{.Result}}"']
`;

describe('FORK_JOB, AWAIT_FORKED_JOB and sub_workflow', () => {
  it('forks children with rendered input params, awaits them, and returns their outputs to the parent', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(CHILD);
    await queen.applyDefinition(PARENT);
    const parent = await finished(queen, (await queen.submit({ jobType: 'parent', params: { First: 'x', Second: 'y' } })).id);
    expect(parent.state).toBe('COMPLETED');
    const a = parent.tasks.find((t) => t.taskType === 'fork-a')!.outputs.ForkedJobId!;
    const b = parent.tasks.find((t) => t.taskType === 'fork-b')!.outputs.ForkedJobId!;
    expect(a).not.toBe(b);
    for (const [id, item] of [
      [a, 'x'],
      [b, 'y'],
    ] as const) {
      const child = (await queen.getJob(id))!;
      expect(child).toMatchObject({ jobType: 'child', state: 'COMPLETED', params: { Item: item } });
    }
    expect(parent.tasks.find((t) => t.taskType === 'wait')!.outputs.Result).toMatch(/^done-[xy]$/);
    const report = (await queen.logs(parent.id, { taskType: 'report' })).filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(report).toEqual([expect.stringMatching(/^last result done-[xy]$/)]);
  });

  it('a failed child fails the awaiting task, naming the child', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(CHILD);
    await queen.applyDefinition(PARENT);
    const parent = await finished(queen, (await queen.submit({ jobType: 'parent', params: { First: 'ok', Second: 'bad' } })).id);
    expect(parent.state).toBe('FAILED');
    expect(taskStates(parent)).toMatchObject({ 'fork-a': 'COMPLETED', 'fork-b': 'COMPLETED', wait: 'FAILED' });
    const b = parent.tasks.find((t) => t.taskType === 'fork-b')!.outputs.ForkedJobId!;
    expect(parent.tasks.find((t) => t.taskType === 'wait')!.attempts.at(-1)!.reason).toContain(`${b} FAILED`);
  });

  it('a sub_workflow task waits for its child and maps output_variables; cancelling the parent cancels the child', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`job_type: slow-child
tasks:
- task_type: sleep
  method: SHELL
  script: ['echo "::set-output name=Rows::{{.Rows}}"', 'sleep {{.Sleep}}']
`);
    await queen.applyDefinition(`job_type: sub-parent
tasks:
- task_type: run-child
  method: FORK_JOB
  fork_job_type: slow-child
  sub_workflow:
    input_params: [{ name: Rows, value: "{{.Rows}}" }, { name: Sleep, value: "{{.Sleep}}" }]
    output_variables: [{ name: Rows, value: ChildRows }, { name: Missing, value: Nothing }]
    wait_for_completion: true
  on_completed: use
- task_type: use
  method: SHELL
  script: ['echo "child made {{.ChildRows}} rows [{{.Nothing}}]"']
`);
    const done = await finished(queen, (await queen.submit({ jobType: 'sub-parent', params: { Rows: 42, Sleep: 0 } })).id);
    expect(done.state).toBe('COMPLETED');
    expect((await queen.logs(done.id, { taskType: 'use' })).filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual([
      'child made 42 rows []',
    ]);

    const { id } = await queen.submit({ jobType: 'sub-parent', params: { Rows: 1, Sleep: 60 } });
    // The child's id follows from the parent, the task and the parent's run: no need to wait for the output.
    const child = childJobId(id, 'run-child', 0);
    await until(async () => ((await queen.getJob(child))?.state === 'EXECUTING' ? true : undefined));
    await queen.cancel(id, 'test cancels the parent');
    expect((await finished(queen, id)).state).toBe('CANCELLED');
    expect((await finished(queen, child)).state).toBe('CANCELLED');
  });
});

describe('forking once per parent run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-forks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('two queens forking the same task at once make one child, and a re-run finds it', async () => {
    const path = tempDb();
    const setup = await startQueen({ dbPath: path });
    await setup.applyDefinition(CHILD);
    await setup.applyDefinition('job_type: holder\ntasks:\n- task_type: t\n  method: TEST\n  script: ["sleep 60000"]\n');
    const parent = await setup.submit({ jobType: 'holder' });
    const stores = [SqliteStore.open({ path }), SqliteStore.open({ path })];
    try {
      const forks = stores.map((store) => new QueenForks({ store, committed: () => {}, cancel: async () => {} }));
      const request = { jobType: 'child', params: { Item: 'once' }, wait: false, outputs: [] };
      const ids = await Promise.all(forks.flatMap((f) => [f.fork(parent.id, 'fork', request), f.fork(parent.id, 'fork', request)]));
      expect(new Set(ids)).toEqual(new Set([childJobId(parent.id, 'fork', 0)]));
      const children = (await setup.listJobs({ limit: 100 })).items.filter((j) => j.jobType === 'child');
      expect(children.map((c) => c.id)).toEqual([ids[0]]);
      expect(await forks[0]!.fork(parent.id, 'fork', request)).toBe(ids[0]);
      await expect(forks[0]!.fork(parent.id, 'other', { ...request, version: '9.9' })).rejects.toThrow(
        'no definition of child with version 9.9 to fork',
      );
    } finally {
      for (const store of stores) await store.close();
      await setup.cancel(parent.id);
    }
  });
});
