import {
  type JobDefinition,
  type JobSnapshot,
  jobRetryDelay,
  planJob,
  type TaskDefinition,
  type TaskSnapshot,
  tasksToRestart,
} from '@myrmex/orchestrator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definition } from './definitions.js';

type Snap = Record<string, TaskSnapshot['state'] | TaskSnapshot>;
const snapshot = (tasks: Snap, stop?: JobSnapshot['stop']): JobSnapshot => ({
  ...(stop ? { stop } : {}),
  tasks: new Map(Object.entries(tasks).map(([k, v]) => [k, typeof v === 'string' ? { state: v } : v])),
});
const pending = (def: JobDefinition, overrides: Snap = {}): Snap => ({
  ...Object.fromEntries(def.tasks.map((t) => [t.taskType, 'PENDING' as const])),
  ...overrides,
});

describe('planJob: starting', () => {
  it('starts a Formicary chain (no needs anywhere) at its first task only', () => {
    const def = definition([{ task_type: 'a', on_completed: 'b' }, { task_type: 'b', on_completed: 'c' }, { task_type: 'c' }]);
    expect(planJob(def, snapshot(pending(def)))).toEqual({ start: ['a'], skip: [], cancel: [] });
  });

  it('starts every task without needs that is no route target, in parallel', () => {
    const def = definition([
      { task_type: 'a' },
      { task_type: 'b' },
      { task_type: 'c', on_failed: 'd' },
      { task_type: 'd' },
      { task_type: 'join', needs: ['a', 'b'] },
    ]);
    expect(planJob(def, snapshot(pending(def))).start).toEqual(['a', 'b', 'c']);
  });
});

describe('planJob: joins', () => {
  const def = definition([{ task_type: 'a' }, { task_type: 'b' }, { task_type: 'join', needs: ['a', 'b'] }]);

  it('waits until all needed tasks are terminal, then runs when all completed', () => {
    expect(planJob(def, snapshot(pending(def, { a: 'COMPLETED', b: 'EXECUTING' })))).toEqual({ start: [], skip: [], cancel: [] });
    expect(planJob(def, snapshot(pending(def, { a: 'COMPLETED', b: 'COMPLETED' }))).start).toEqual(['join']);
  });

  it('runs after an allowed failure', () => {
    const allowed = definition([{ task_type: 'a', allow_failure: true }, { task_type: 'b' }, { task_type: 'join', needs: ['a', 'b'] }]);
    const plan = planJob(allowed, snapshot(pending(allowed, { a: 'FAILED', b: 'COMPLETED' })));
    expect(plan.start).toEqual(['join']);
    expect(planJob(allowed, snapshot({ a: 'FAILED', b: 'COMPLETED', join: 'COMPLETED' })).outcome).toEqual({
      state: 'COMPLETED',
      reason: 'all tasks finished',
    });
  });

  it('ends SKIPPED when a dependency was skipped, and the skip propagates down the graph', () => {
    const chain = definition([
      { task_type: 'a', on_exit_code: { '0': 'COMPLETED' }, on_failed: 'handler' },
      { task_type: 'handler' },
      { task_type: 'after', needs: ['handler'] },
      { task_type: 'last', needs: ['after'] },
    ]);
    const plan = planJob(chain, snapshot(pending(chain, { a: 'COMPLETED' })));
    expect(plan.skip).toEqual([
      { taskType: 'handler', reason: 'no route to it was taken' },
      { taskType: 'after', reason: 'dependency handler ended SKIPPED' },
      { taskType: 'last', reason: 'dependency after ended SKIPPED' },
    ]);
    expect(plan.outcome).toEqual({ state: 'COMPLETED', reason: 'all tasks finished' });
  });
});

describe('planJob: routing', () => {
  const def = definition([
    { task_type: 'check', on_exit_code: { '0': 'deploy', '2': 'notify' }, on_failed: 'rollback' },
    { task_type: 'deploy' },
    { task_type: 'notify' },
    { task_type: 'rollback' },
  ]);

  it('runs the target the route took and skips the others once the source is done', () => {
    const plan = planJob(def, snapshot(pending(def, { check: { state: 'COMPLETED', route: 'notify' } })));
    expect(plan.start).toEqual(['notify']);
    expect(plan.skip.map((s) => s.taskType)).toEqual(['deploy', 'rollback']);
  });

  it('keeps targets waiting while the source may still route (retrying)', () => {
    expect(planJob(def, snapshot(pending(def, { check: 'READY' })))).toEqual({ start: [], skip: [], cancel: [] });
  });

  it('on_failed: the handler runs, other branches go on, and the job ends FAILED', () => {
    const dag = definition([
      { task_type: 'a', on_failed: 'handler' },
      { task_type: 'b' },
      { task_type: 'handler' },
      { task_type: 'c', needs: ['b'] },
    ]);
    const plan = planJob(dag, snapshot(pending(dag, { a: { state: 'FAILED', route: 'handler', reason: 'exit code 1' }, b: 'COMPLETED' })));
    expect(plan.start).toEqual(['handler', 'c']);
    const done = planJob(
      dag,
      snapshot({ a: { state: 'FAILED', route: 'handler', reason: 'exit code 1' }, b: 'COMPLETED', handler: 'COMPLETED', c: 'COMPLETED' }),
    );
    expect(done.outcome).toEqual({ state: 'FAILED', reason: 'task a failed: exit code 1' });
  });

  it('a task that is both a join and a route target waits for both', () => {
    const both = definition([{ task_type: 'a', on_completed: 'x' }, { task_type: 'b' }, { task_type: 'x', needs: ['b'] }]);
    expect(planJob(both, snapshot(pending(both, { a: { state: 'COMPLETED', route: 'x' }, b: 'EXECUTING' }))).start).toEqual([]);
    expect(planJob(both, snapshot(pending(both, { a: { state: 'COMPLETED', route: 'x' }, b: 'COMPLETED' }))).start).toEqual(['x']);
    expect(planJob(both, snapshot(pending(both, { a: 'COMPLETED', b: 'COMPLETED' }))).skip).toEqual([
      { taskType: 'x', reason: 'no route to it was taken' },
    ]);
  });
});

describe('planJob: failure', () => {
  const def = definition([
    { task_type: 'a' },
    { task_type: 'b' },
    { task_type: 'c', needs: ['a', 'b'] },
    { task_type: 'slow' },
    { task_type: 'cleanup', always_run: true },
  ]);

  it('a failed task without on_failed stops new work: pending and ready tasks end SKIPPED, running ones finish', () => {
    const plan = planJob(
      def,
      snapshot({ a: { state: 'FAILED', reason: 'exit code 1' }, b: 'READY', c: 'PENDING', slow: 'EXECUTING', cleanup: 'PENDING' }),
    );
    expect(plan.skip).toEqual([
      { taskType: 'b', reason: 'job failing' },
      { taskType: 'c', reason: 'job failing' },
    ]);
    expect(plan.start).toEqual([]);
    expect(plan.outcome).toBeUndefined();
  });

  it('always_run without needs runs at the end, whatever the outcome, and then the job fails', () => {
    const failed = {
      a: { state: 'FAILED' as const, reason: 'exit code 1' },
      b: 'SKIPPED' as const,
      c: 'SKIPPED' as const,
      slow: 'COMPLETED' as const,
    };
    expect(planJob(def, snapshot({ ...failed, cleanup: 'PENDING' })).start).toEqual(['cleanup']);
    expect(planJob(def, snapshot({ ...failed, cleanup: 'COMPLETED' })).outcome).toEqual({
      state: 'FAILED',
      reason: 'task a failed: exit code 1',
    });
    const fine = planJob(def, snapshot({ a: 'COMPLETED', b: 'COMPLETED', c: 'COMPLETED', slow: 'COMPLETED', cleanup: 'PENDING' }));
    expect(fine.start).toEqual(['cleanup']);
  });

  it('always_run with needs runs once they are terminal, whatever their state', () => {
    const dep = definition([
      { task_type: 'a' },
      { task_type: 'b', needs: ['a'] },
      { task_type: 'cleanup', always_run: true, needs: ['a'] },
    ]);
    const plan = planJob(dep, snapshot({ a: { state: 'FAILED' }, b: 'PENDING', cleanup: 'PENDING' }));
    expect(plan.skip).toEqual([{ taskType: 'b', reason: 'job failing' }]);
    expect(plan.start).toEqual(['cleanup']);
  });

  it('always_run as a route target runs when routed, or at the end when never routed', () => {
    const routed = definition([
      { task_type: 'a', on_failed: 'cleanup' },
      { task_type: 'b' },
      { task_type: 'c', needs: ['b'] },
      { task_type: 'cleanup', always_run: true },
    ]);
    const running = { b: 'EXECUTING' as const, c: 'PENDING' as const, cleanup: 'PENDING' as const };
    expect(planJob(routed, snapshot({ a: { state: 'FAILED', route: 'cleanup' }, ...running })).start).toEqual(['cleanup']);
    expect(planJob(routed, snapshot({ a: 'COMPLETED', ...running })).start).toEqual([]);
    expect(planJob(routed, snapshot({ a: 'COMPLETED', b: 'COMPLETED', c: 'COMPLETED', cleanup: 'PENDING' })).start).toEqual(['cleanup']);
  });

  it('an always_run task that starts a chain runs at the end and its route is then followed', () => {
    const chain = definition([{ task_type: 'setup', always_run: true, on_completed: 'work' }, { task_type: 'work' }]);
    expect(planJob(chain, snapshot({ setup: 'PENDING', work: 'PENDING' })).start).toEqual(['setup']);
    expect(planJob(chain, snapshot({ setup: { state: 'COMPLETED', route: 'work' }, work: 'PENDING' })).start).toEqual(['work']);
  });

  it('FATAL fails the job at once even with on_failed; only always_run tasks still run', () => {
    const fatal = definition([
      { task_type: 'a', on_failed: 'h' },
      { task_type: 'h' },
      { task_type: 'b' },
      { task_type: 'c', needs: ['b'] },
      { task_type: 'cleanup', always_run: true },
    ]);
    const plan = planJob(
      fatal,
      snapshot({
        a: { state: 'FAILED', fatal: true, reason: 'exit code 9: FATAL' },
        h: 'PENDING',
        b: 'COMPLETED',
        c: 'SKIPPED',
        cleanup: 'PENDING',
      }),
    );
    expect(plan.skip).toEqual([{ taskType: 'h', reason: 'job failing' }]);
    expect(plan.start).toEqual(['cleanup']);
  });

  it('an allowed failure does not fail the job', () => {
    const allowed = definition([
      { task_type: 'a', allow_failure: true },
      { task_type: 'b', needs: ['a'] },
    ]);
    expect(planJob(allowed, snapshot({ a: 'FAILED', b: 'COMPLETED' })).outcome?.state).toBe('COMPLETED');
  });
});

describe('planJob: cancel and timeout', () => {
  const def = definition([{ task_type: 'a' }, { task_type: 'b', needs: ['a'] }, { task_type: 'cleanup', always_run: true }]);

  it('cancel marks every unfinished task CANCELLED and runs nothing, not even always_run', () => {
    const plan = planJob(def, snapshot({ a: 'EXECUTING', b: 'PENDING', cleanup: 'PENDING' }, 'cancel'));
    expect(plan).toEqual({ start: [], skip: [], cancel: ['a', 'b', 'cleanup'], outcome: { state: 'CANCELLED', reason: 'cancelled' } });
  });

  it('a job timeout fails the job but still runs its always_run tasks', () => {
    const plan = planJob(def, snapshot({ a: { state: 'FAILED', reason: 'job timeout' }, b: 'PENDING', cleanup: 'PENDING' }, 'timeout'));
    expect(plan.skip).toEqual([{ taskType: 'b', reason: 'job failing' }]);
    expect(plan.start).toEqual(['cleanup']);
    expect(planJob(def, snapshot({ a: 'COMPLETED', b: 'SKIPPED', cleanup: 'COMPLETED' }, 'timeout')).outcome).toEqual({
      state: 'FAILED',
      reason: 'job timeout',
    });
  });
});

describe('restart and job retry', () => {
  it('soft restart re-runs FAILED, CANCELLED and SKIPPED tasks; hard re-runs everything', () => {
    const snap = snapshot({ a: 'COMPLETED', b: 'FAILED', c: 'SKIPPED', d: 'CANCELLED' });
    expect(tasksToRestart(snap, false)).toEqual(['b', 'c', 'd']);
    expect(tasksToRestart(snap, true)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retries a failed job up to `retry` times after the delay', () => {
    const def = definition([{ task_type: 'a' }], { retry: 2, delay_between_retries: '5s' });
    expect([0, 1, 2].map((taken) => jobRetryDelay(def, taken))).toEqual([5000, 5000, undefined]);
  });
});

/** Random DAGs (needs and routes only point forward) built as normalised definitions. */
const dagArbitrary = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc
    .tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          deps: fc.subarray(Array.from({ length: i }, (_, j) => j)),
          onCompleted: i + 1 < n ? fc.option(fc.integer({ min: i + 1, max: n - 1 }), { nil: undefined }) : fc.constant(undefined),
          onFailed: i + 1 < n ? fc.option(fc.integer({ min: i + 1, max: n - 1 }), { nil: undefined }) : fc.constant(undefined),
          alwaysRun: fc.boolean(),
          allowFailure: fc.boolean(),
          fails: fc.boolean(),
        }),
      ),
    )
    .map((specs) => {
      const name = (i: number) => `t${i}`;
      const base = definition([{ task_type: 'x' }]).tasks[0]!;
      const tasks: TaskDefinition[] = specs.map((s, i) => ({
        ...base,
        taskType: name(i),
        needs: s.deps.map(name),
        alwaysRun: s.alwaysRun,
        allowFailure: s.allowFailure,
        onExitCode: {},
        ...(s.onCompleted === undefined ? {} : { onCompleted: name(s.onCompleted) }),
        ...(s.onFailed === undefined ? {} : { onFailed: name(s.onFailed) }),
      }));
      return {
        def: { ...definition([{ task_type: 'x' }]), tasks } as JobDefinition,
        fails: new Set(specs.flatMap((s, i) => (s.fails ? [name(i)] : []))),
      };
    }),
);

describe('planJob: laws over random DAGs', () => {
  it('every job terminates, each task runs at most once and only after the tasks it needs, always_run tasks always run', () => {
    fc.assert(
      fc.property(dagArbitrary, fc.infiniteStream(fc.nat()), ({ def, fails }, picks) => {
        const tasks = new Map<string, TaskSnapshot>(def.tasks.map((t) => [t.taskType, { state: 'PENDING' }]));
        const started = new Set<string>();
        const pick = picks[Symbol.iterator]();
        for (let step = 0; step < 100; step++) {
          const plan = planJob(def, { tasks });
          for (const s of plan.skip) tasks.set(s.taskType, { state: 'SKIPPED' });
          for (const t of plan.start) {
            expect(started.has(t)).toBe(false);
            const task = def.tasks.find((d) => d.taskType === t)!;
            for (const dep of task.needs) expect(['COMPLETED', 'FAILED', 'SKIPPED']).toContain(tasks.get(dep)?.state);
            started.add(t);
            tasks.set(t, { state: 'READY' });
          }
          if (plan.outcome) {
            for (const [, snap] of tasks) expect(['COMPLETED', 'FAILED', 'SKIPPED']).toContain(snap.state);
            for (const t of def.tasks) if (t.alwaysRun) expect(started.has(t.taskType)).toBe(true);
            const failedHard = def.tasks.some((t) => tasks.get(t.taskType)?.state === 'FAILED' && !t.allowFailure);
            expect(plan.outcome.state).toBe(failedHard ? 'FAILED' : 'COMPLETED');
            return;
          }
          const ready = [...tasks].filter(([, s]) => s.state === 'READY').map(([t]) => t);
          expect(ready.length).toBeGreaterThan(0);
          const chosen = ready[pick.next().value % ready.length]!;
          const task = def.tasks.find((d) => d.taskType === chosen)!;
          tasks.set(
            chosen,
            fails.has(chosen)
              ? { state: 'FAILED', route: task.onFailed ?? (task.allowFailure ? task.onCompleted : undefined) }
              : { state: 'COMPLETED', route: task.onCompleted },
          );
        }
        throw new Error('the job did not finish in 100 steps');
      }),
      { numRuns: 300 },
    );
  });
});
