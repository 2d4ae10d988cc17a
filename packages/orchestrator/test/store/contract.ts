import { type Changes, type JobDefinition, type JobQuery, type JobStore, StaleDefinitionError, type TaskState } from '@myrmex/orchestrator';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definition, JOIN_KEY } from '../engine/definitions.js';

/**
 * The JobStore contract: every store (SQLite now, PostgreSQL later) must pass it.
 * `open` returns a fresh, empty, migrated store.
 */
export function describeStoreContract(name: string, open: () => Promise<JobStore>): void {
  describe(`JobStore contract: ${name}`, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const diamond: JobDefinition = definition([
      { task_type: 'a' },
      { task_type: 'b', [JOIN_KEY]: ['a'] },
      { task_type: 'c', [JOIN_KEY]: ['a'] },
    ]);
    const at = (ms: number) => new Date(1_800_000_000_000 + ms);
    let nextId = 0;
    const submit = async (options: { priority?: number; scheduledAt?: number; jobType?: string; submittedAt?: number } = {}) => {
      const id = `job-${++nextId}`;
      const { job } = await store.createJob({
        id,
        jobType: options.jobType ?? 'test-job',
        version: 1,
        priority: options.priority ?? 50,
        params: { n: nextId },
        submittedAt: at(options.submittedAt ?? 0),
        scheduledAt: at(options.scheduledAt ?? 0),
        taskTypes: ['a', 'b', 'c'],
      });
      return job;
    };
    const makeReady = async (jobId: string, taskType = 'a') => {
      const events = await store.apply(jobId, {
        at: at(1),
        job: { state: 'READY', reason: 'admitted' },
        tasks: [{ taskType, state: 'READY', reason: 'ready' }],
      });
      expect(events).toBeDefined();
    };

    describe('definitions', () => {
      it('creates a new version only when the definition changes, newest first', async () => {
        expect(await store.saveDefinition(diamond, 'v1 text', at(0))).toEqual({ jobType: 'test-job', version: 1, created: true });
        expect(await store.saveDefinition(diamond, 'v1 again', at(1))).toEqual({ jobType: 'test-job', version: 1, created: false });
        const changed = { ...diamond, priority: 90 };
        expect(await store.saveDefinition(changed, 'v2 text', at(2))).toEqual({ jobType: 'test-job', version: 2, created: true });
        const versions = await store.definitionVersions('test-job');
        expect(versions.map((v) => [v.version, v.source, v.definition.priority])).toEqual([
          [2, 'v2 text', 90],
          [1, 'v1 text', 50],
        ]);
        expect((await store.definition('test-job'))?.version).toBe(2);
        expect((await store.definition('test-job', 1))?.definition).toEqual(diamond);
        expect(await store.definition('test-job', 3)).toBeUndefined();
        expect(await store.definitionVersions('nope')).toEqual([]);
      });

      it('lists the latest version per type and disables and re-enables a type', async () => {
        await store.saveDefinition(diamond, 'a', at(0));
        await store.saveDefinition({ ...diamond, priority: 10 }, 'b', at(1));
        await store.saveDefinition({ ...diamond, jobType: 'other' }, 'c', at(2));
        expect((await store.latestDefinitions()).map((d) => [d.jobType, d.version])).toEqual([
          ['other', 1],
          ['test-job', 2],
        ]);
        expect(await store.setDefinitionDisabled('test-job', true)).toBe(true);
        expect(await store.setDefinitionDisabled('missing', true)).toBe(false);
        expect((await store.definition('test-job'))?.disabled).toBe(true);
        await store.saveDefinition({ ...diamond, priority: 10 }, 'b', at(3));
        expect((await store.definition('test-job'))?.disabled).toBe(false);
      });
    });

    describe('jobs', () => {
      it('creates a PENDING job with PENDING tasks in definition order and a first timeline row', async () => {
        const job = await submit();
        expect(job).toMatchObject({ state: 'PENDING', jobType: 'test-job', version: 1, priority: 50, params: { n: nextId }, retry: 0 });
        expect((await store.tasks(job.id)).map((t) => [t.taskType, t.state, t.attempt, t.runAttempts])).toEqual([
          ['a', 'PENDING', 0, 0],
          ['b', 'PENDING', 0, 0],
          ['c', 'PENDING', 0, 0],
        ]);
        expect(await store.timeline(job.id)).toMatchObject([{ jobId: job.id, to: 'PENDING', reason: 'submitted' }]);
        expect(await store.job('missing')).toBeUndefined();
      });

      it('inserts a job built from a cached definition only while its version is the latest enabled one', async () => {
        await store.saveDefinition(diamond, 'v1', at(0));
        const job = (id: string, version: number) => ({
          id,
          jobType: 'test-job',
          version,
          priority: 50,
          params: {},
          submittedAt: at(0),
          scheduledAt: at(0),
          taskTypes: ['a', 'b', 'c'],
          requireLatest: true,
        });
        expect((await store.createJobs([job('latest', 1)])).jobs.map((j) => j.id)).toEqual(['latest']);
        await store.saveDefinition({ ...diamond, priority: 90 }, 'v2', at(1));
        await expect(store.createJobs([job('stale', 1)])).rejects.toThrow(StaleDefinitionError);
        await expect(store.createJobs([job('also', 2), { ...job('unknown', 1), jobType: 'nope' }])).rejects.toMatchObject({
          jobTypes: ['nope'],
        });
        await store.setDefinitionDisabled('test-job', true);
        await expect(store.createJobs([job('disabled', 2)])).rejects.toThrow(StaleDefinitionError);
        for (const id of ['stale', 'also', 'unknown', 'disabled']) expect(await store.job(id)).toBeUndefined();
      });

      it('creates many jobs in one transaction, in order, or none of them', async () => {
        const job = (id: string, priority: number) => ({
          id,
          jobType: 'bulk',
          version: 1,
          priority,
          params: { id },
          submittedAt: at(0),
          scheduledAt: at(0),
          taskTypes: ['a', 'b'],
        });
        const many = Array.from({ length: 700 }, (_, i) => job(`bulk-${i}`, i % 3));
        const { jobs, events } = await store.createJobs(many);
        expect(jobs.map((j) => j.id)).toEqual(many.map((j) => j.id));
        expect(events).toHaveLength(700);
        expect(jobs[1]!.seq).toBeGreaterThan(jobs[0]!.seq);
        expect((await store.tasks('bulk-699')).map((t) => t.taskType)).toEqual(['a', 'b']);
        await expect(store.createJobs([job('fresh', 1), job('bulk-3', 1)])).rejects.toThrow();
        expect(await store.job('fresh')).toBeUndefined();
        expect((await store.listJobs({ jobType: 'bulk', count: 'exact' })).total).toBe(700);
      });

      it('writes a bulk of jobs with many tasks across statements: each job its tasks in order, in the ready order', async () => {
        const taskTypes = Array.from({ length: 9 }, (_, i) => `t${i}`);
        const many = Array.from({ length: 400 }, (_, i) => ({
          id: `wide-${i}`,
          jobType: 'wide',
          version: 1,
          priority: 5,
          params: {},
          submittedAt: at(i),
          scheduledAt: at(0),
          taskTypes,
        }));
        const { jobs, events } = await store.createJobs(many);
        expect(events.map((e) => [e.jobId, e.to, e.reason])).toEqual(many.map((j) => [j.id, 'PENDING', 'submitted']));
        expect(events.map((e) => e.at.getTime())).toEqual(many.map((j) => j.submittedAt.getTime()));
        for (const i of [0, 333, 399]) {
          expect((await store.tasks(`wide-${i}`)).map((t) => [t.taskType, t.state])).toEqual(taskTypes.map((t) => [t, 'PENDING']));
          expect(await store.timeline(`wide-${i}`)).toEqual([events[i]]);
        }
        // Tasks carry their job's seq, so the ready queue walks jobs in submission order.
        for (const job of jobs.slice(0, 3)) await makeReady(job.id, 't0');
        expect((await store.readyTasks(at(10).getTime(), 10)).map((t) => t.jobId)).toEqual(jobs.slice(0, 3).map((j) => j.id));
      });

      it('writes a bulk of 1,000 jobs as submitted: each its tasks, its PENDING timeline row and the seqs it was given, or none of them', async () => {
        // Ids out of their sorting order, and task lists both shared (one array) and equal but separate.
        const shared = ['a', 'b', 'c'];
        const many = Array.from({ length: 1000 }, (_, i) => ({
          id: `many-${(i * 7919) % 1000}`,
          jobType: i % 2 ? 'odd' : 'even',
          version: 1,
          priority: i % 3,
          params: { i, text: 'quote " backslash \\ nul \u0000 é' },
          submittedAt: at(i),
          scheduledAt: at(2 * i),
          taskTypes: i % 2 ? ['x', 'y'] : shared,
          ...(i % 5 === 0 ? { submittedBy: 'ann' } : {}),
        }));
        const { jobs, events } = await store.createJobs(many);
        const read = await store.jobsWithTasks(many.map((j) => j.id));
        expect(jobs.map((j) => j.id)).toEqual(many.map((j) => j.id));
        for (const [i, job] of jobs.entries()) {
          const stored = read.get(job.id)!;
          expect(job).toEqual(stored.job);
          expect(job).toMatchObject({
            state: 'PENDING',
            priority: i % 3,
            params: many[i]!.params,
            submittedAt: at(i),
            scheduledAt: at(2 * i),
          });
          expect(job.submittedBy).toBe(i % 5 === 0 ? 'ann' : undefined);
          expect(stored.tasks.map((t) => [t.taskType, t.state])).toEqual(many[i]!.taskTypes.map((t) => [t, 'PENDING']));
          if (i > 0) expect(job.seq).toBeGreaterThan(jobs[i - 1]!.seq);
        }
        const timelines = await Promise.all(jobs.map((job) => store.timeline(job.id)));
        for (const [i, timeline] of timelines.entries()) {
          expect(timeline).toEqual([events[i]]);
          expect(events[i]).toMatchObject({ jobId: many[i]!.id, to: 'PENDING', reason: 'submitted', at: at(i) });
        }
        // Tasks carry their job's priority and seq: the ready queue takes priority first, then submission order.
        for (const i of [999, 0, 998, 1]) await makeReady(many[i]!.id, many[i]!.taskTypes[0]);
        expect((await store.readyTasks(at(5000).getTime(), 10)).map((t) => t.jobId)).toEqual([998, 1, 0, 999].map((i) => many[i]!.id));
        // A bulk whose last job cannot be written (its id is taken) writes none of the others.
        const again = Array.from({ length: 1000 }, (_, i) => ({ ...many[i]!, id: i === 999 ? many[0]!.id : `again-${i}` }));
        await expect(store.createJobs(again)).rejects.toThrow();
        expect((await store.jobsWithTasks(again.map((j) => j.id))).size).toBe(1);
        expect(await store.timeline('again-0')).toEqual([]);
        expect(await store.tasks('again-0')).toEqual([]);
      });

      it('lists jobs newest first with filters and pagination', async () => {
        const jobs = [await submit(), await submit({ jobType: 'other' }), await submit()];
        await makeReady(jobs[2]!.id);
        const all = await store.listJobs({});
        expect(all.items.map((j) => j.id)).toEqual(jobs.map((j) => j.id).reverse());
        // No count unless asked for: counting reads every match.
        expect(all.total).toBeUndefined();
        expect((await store.listJobs({ count: 'exact' })).total).toBe(3);
        expect((await store.listJobs({ jobType: 'test-job', count: 'exact' })).total).toBe(2);
        expect((await store.listJobs({ state: 'READY' })).items.map((j) => j.id)).toEqual([jobs[2]!.id]);
        const page = await store.listJobs({ limit: 1, offset: 1, count: 'exact' });
        expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
        expect(page.items.map((j) => j.id)).toEqual([jobs[1]!.id]);
      });

      it('filters by submission time (after inclusive, before exclusive) and by id prefix or exact job type', async () => {
        const early = await submit({ submittedAt: 1000 });
        const middle = await submit({ submittedAt: 2000, jobType: 'other' });
        const late = await submit({ submittedAt: 3000 });
        const ids = async (query: JobQuery) => (await store.listJobs(query)).items.map((j) => j.id);
        expect(await ids({ submittedAfter: at(2000) })).toEqual([late.id, middle.id]);
        expect(await ids({ submittedBefore: at(2000) })).toEqual([early.id]);
        expect(await ids({ submittedAfter: at(1000), submittedBefore: at(3000), jobType: 'other' })).toEqual([middle.id]);
        expect(await ids({ text: 'other' })).toEqual([middle.id]);
        // An id prefix ignores case; LIKE's wildcards in the text are taken literally.
        const byId = await ids({ text: ` ${late.id.toUpperCase()} ` });
        expect(byId).toContain(late.id);
        expect(byId.every((id) => id.startsWith(late.id))).toBe(true);
        expect(await ids({ text: 'job%' })).toEqual([]);
        expect(await ids({ text: '_ob' })).toEqual([]);
        // Under a filter the cursor still walks every match once.
        const first = await store.listJobs({ submittedBefore: at(3000), limit: 1 });
        expect(first.items.map((j) => j.id)).toEqual([middle.id]);
        const second = await store.listJobs({ submittedBefore: at(3000), limit: 1, cursor: first.nextCursor! });
        expect([second.items.map((j) => j.id), second.nextCursor]).toEqual([[early.id], undefined]);
      });

      it('pages by cursor: every job once, newest first, under a filter, however the list grows meanwhile', async () => {
        const jobs = [];
        for (let i = 0; i < 7; i++) jobs.push(await submit({ jobType: i % 3 === 0 ? 'other' : 'test-job' }));
        const walk = async (query: { jobType?: string }) => {
          const seen: string[] = [];
          let page = await store.listJobs({ ...query, limit: 2 });
          seen.push(...page.items.map((j) => j.id));
          // A job submitted while paging is newer than every cursor: it never shifts the pages being read.
          await submit();
          while (page.nextCursor !== undefined) {
            page = await store.listJobs({ ...query, limit: 2, cursor: page.nextCursor });
            expect(page.offset).toBe(0);
            seen.push(...page.items.map((j) => j.id));
          }
          return seen;
        };
        expect(await walk({ jobType: 'test-job' })).toEqual(
          jobs
            .filter((j) => j.jobType === 'test-job')
            .map((j) => j.id)
            .reverse(),
        );
        const everything = await walk({});
        expect(everything.slice(-7)).toEqual(jobs.map((j) => j.id).reverse());
        expect(new Set(everything).size).toBe(everything.length);
        const last = await store.listJobs({ limit: 100 });
        expect(last.nextCursor).toBeUndefined();
        await expect(store.listJobs({ cursor: 'not a cursor' })).rejects.toThrow(/cursor/);
      });
    });

    describe('transitions', () => {
      it('writes each state change with its timeline row (job, task, from, to, time, reason)', async () => {
        const job = await submit();
        const events = await store.apply(job.id, {
          at: at(5),
          job: { state: 'READY', reason: 'admitted', deadlineAt: 99 },
          tasks: [
            { taskType: 'a', state: 'READY', reason: 'start' },
            { taskType: 'b', state: 'SKIPPED', reason: 'nope', endedAt: at(5) },
          ],
        });
        expect(events?.map((e) => [e.taskType, e.from, e.to, e.reason, e.at.getTime()])).toEqual([
          [undefined, 'PENDING', 'READY', 'admitted', at(5).getTime()],
          ['a', 'PENDING', 'READY', 'start', at(5).getTime()],
          ['b', 'PENDING', 'SKIPPED', 'nope', at(5).getTime()],
        ]);
        expect(await store.timeline(job.id)).toHaveLength(4);
        expect((await store.job(job.id))?.deadlineAt).toBe(99);
      });

      it('writes nothing when an expectation does not hold', async () => {
        const job = await submit();
        const before = await store.timeline(job.id);
        const result = await store.apply(job.id, {
          at: at(5),
          job: { state: 'EXECUTING' },
          tasks: [
            { taskType: 'a', state: 'COMPLETED' },
            { taskType: 'b', expect: { state: 'EXECUTING' }, state: 'FAILED' },
          ],
        });
        expect(result).toBeUndefined();
        expect((await store.job(job.id))?.state).toBe('PENDING');
        expect((await store.tasks(job.id)).map((t) => t.state)).toEqual(['PENDING', 'PENDING', 'PENDING']);
        expect(await store.timeline(job.id)).toEqual(before);
        expect(await store.apply(job.id, { at: at(6), job: { expect: ['READY'], state: 'EXECUTING' } })).toBeUndefined();
      });

      it('refuses a transition planned from a read another write has since changed (compare-and-set on the revision)', async () => {
        const job = await submit();
        await makeReady(job.id);
        const basis = (await store.jobsWithTasks([job.id])).get(job.id)!;
        const finish = { at: at(4), job: { revision: basis.job.revision }, tasks: [{ taskType: 'a', state: 'COMPLETED' as const }] };
        // Another queen gets there first: a claim moves the task and bumps the revision.
        expect(await store.claim({ jobId: job.id, taskType: 'a', antId: 'ant', at: at(2) })).toBeDefined();
        const timeline = await store.timeline(job.id);
        expect(await store.apply(job.id, finish, basis)).toBeUndefined();
        expect((await store.tasks(job.id))[0]?.state).toBe('EXECUTING');
        expect(await store.timeline(job.id)).toEqual(timeline);
        const now = (await store.jobsWithTasks([job.id])).get(job.id)!;
        const events = await store.apply(job.id, { ...finish, job: { revision: now.job.revision } }, now);
        expect(events?.map((e) => [e.taskType, e.from, e.to])).toEqual([['a', 'EXECUTING', 'COMPLETED']]);
        expect((await store.job(job.id))?.revision).toBe(now.job.revision + 1);
      });

      it('keeps outputs, routes, exit codes and clears fields set to null', async () => {
        const job = await submit();
        await store.apply(job.id, {
          at: at(1),
          tasks: [{ taskType: 'a', state: 'COMPLETED', outputs: { X: '1' }, route: 'b', exitCode: 0, fatal: false, endedAt: at(1) }],
        });
        let task = (await store.tasks(job.id))[0]!;
        expect(task).toMatchObject({ outputs: { X: '1' }, route: 'b', exitCode: 0, fatal: false, endedAt: at(1) });
        await store.apply(job.id, { at: at(2), tasks: [{ taskType: 'a', state: 'PENDING', route: null, exitCode: null, endedAt: null }] });
        task = (await store.tasks(job.id))[0]!;
        expect(task.route).toBeUndefined();
        expect(task.exitCode).toBeUndefined();
        expect(task.endedAt).toBeUndefined();
        expect(task.outputs).toEqual({ X: '1' });
      });

      it('timeline replays to the current state for any sequence of transitions (property)', async () => {
        const states: TaskState[] = ['PENDING', 'READY', 'EXECUTING', 'COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED'];
        const step = fc.record({
          task: fc.constantFrom('a', 'b', 'c', undefined),
          to: fc.constantFrom(...states),
          expectFail: fc.boolean(),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
            const job = await submit();
            for (const s of steps) {
              const expect_ = s.expectFail ? { expect: { state: 'PAUSED' as const } } : {};
              if (s.task === undefined) {
                await store.apply(job.id, { at: at(1), job: { state: s.to === 'SKIPPED' ? 'PAUSED' : s.to } });
              } else await store.apply(job.id, { at: at(1), tasks: [{ taskType: s.task, state: s.to, ...expect_ }] });
            }
            const timeline = await store.timeline(job.id);
            const replayed = new Map<string, string>();
            for (const event of timeline) {
              const key = event.taskType ?? '';
              expect(event.from).toBe(replayed.get(key) ?? (key === '' ? undefined : 'PENDING'));
              replayed.set(key, event.to);
            }
            expect(replayed.get('') ?? 'PENDING').toBe((await store.job(job.id))?.state);
            for (const task of await store.tasks(job.id)) expect(replayed.get(task.taskType) ?? 'PENDING').toBe(task.state);
          }),
          { numRuns: 40 },
        );
      });
    });

    describe('batched transitions (applyMany)', () => {
      const admission = (revision?: number, admitWithin?: number) => ({
        at: at(3),
        job: {
          state: 'READY' as const,
          reason: 'admitted',
          ...(revision === undefined ? {} : { revision }),
          ...(admitWithin === undefined ? {} : { admitWithin }),
        },
        tasks: [{ taskType: 'a', state: 'READY' as const, reason: 'ready' }],
      });

      it('with a basis for every job, writes the jobs still at their read revision and refuses the others', async () => {
        const [fine, moved, wrongTask] = [await submit(), await submit(), await submit()];
        const read = await store.jobsWithTasks([fine.id, moved.id, wrongTask.id]);
        // Another writer moves one job on after it was read.
        await store.apply(moved.id, { at: at(2), job: { reason: 'touched' } });
        const results = await store.applyMany(
          [fine, moved, wrongTask].map((job, i) => ({
            jobId: job.id,
            changes:
              i < 2
                ? admission(job.revision)
                : {
                    at: at(3),
                    job: { revision: job.revision },
                    tasks: [{ taskType: 'a', expect: { state: 'READY' as const }, state: 'EXECUTING' as const }],
                  },
            basis: read.get(job.id)!,
          })),
        );
        expect(results.map((events) => events?.map((e) => [e.jobId, e.taskType, e.from, e.to]))).toEqual([
          [
            [fine.id, undefined, 'PENDING', 'READY'],
            [fine.id, 'a', 'PENDING', 'READY'],
          ],
          undefined,
          undefined,
        ]);
        expect((await store.job(fine.id))?.revision).toBe(fine.revision + 1);
        expect((await store.job(moved.id))?.state).toBe('PENDING');
        expect(await store.timeline(wrongTask.id)).toHaveLength(1);
      });

      it('with a basis, a transition other than an admission is written at its read revision or refused whole', async () => {
        const [fine, moved] = [await submit(), await submit()];
        for (const job of [fine, moved]) expect(await store.apply(job.id, admission(job.revision))).toBeDefined();
        const read = await store.jobsWithTasks([fine.id, moved.id]);
        // Another writer moves one job on after it was read: its planned transition must not be written.
        await store.apply(moved.id, { at: at(4), job: { reason: 'touched' } });
        const results = await store.applyMany(
          [fine, moved].map((job) => {
            const basis = read.get(job.id)!;
            return {
              jobId: job.id,
              basis,
              changes: {
                at: at(5),
                job: { revision: basis.job.revision, state: 'EXECUTING' as const },
                tasks: [{ taskType: 'a', expect: { state: 'READY' as const }, state: 'EXECUTING' as const }],
              },
            };
          }),
        );
        expect(results.map((events) => events?.map((e) => [e.jobId, e.taskType, e.from, e.to]))).toEqual([
          [
            [fine.id, 'a', 'READY', 'EXECUTING'],
            [fine.id, undefined, 'READY', 'EXECUTING'],
          ],
          undefined,
        ]);
        expect((await store.job(fine.id))?.revision).toBe(read.get(fine.id)!.job.revision + 1);
        expect((await store.tasks(moved.id)).find((task) => task.taskType === 'a')?.state).toBe('READY');
        expect((await store.timeline(moved.id)).map((e) => e.to)).toEqual(['PENDING', 'READY', 'READY']);
      });

      it('writes or refuses each job on its own, in one call, with each job its own timeline rows', async () => {
        const [fine, stale, wrongTask] = [await submit(), await submit(), await submit()];
        const results = await store.applyMany([
          { jobId: fine.id, changes: admission(fine.revision) },
          { jobId: stale.id, changes: admission(stale.revision + 1) },
          { jobId: wrongTask.id, changes: { at: at(3), tasks: [{ taskType: 'b', expect: { state: 'READY' }, state: 'EXECUTING' }] } },
        ]);
        expect(results.map((events) => events?.map((e) => [e.jobId, e.taskType, e.from, e.to]))).toEqual([
          [
            [fine.id, undefined, 'PENDING', 'READY'],
            [fine.id, 'a', 'PENDING', 'READY'],
          ],
          undefined,
          undefined,
        ]);
        expect((await store.job(fine.id))?.revision).toBe(fine.revision + 1);
        for (const refused of [stale, wrongTask]) {
          expect(await store.job(refused.id)).toEqual(refused);
          expect(await store.timeline(refused.id)).toHaveLength(1);
        }
        await expect(
          store.applyMany([
            { jobId: fine.id, changes: admission() },
            { jobId: fine.id, changes: admission() },
          ]),
        ).rejects.toThrow(/each job at most once/);
        await expect(
          store.applyMany([
            { jobId: fine.id, changes: { at: at(4), attempts: [{ taskType: 'a', attempt: 1, state: 'FAILED', expect: { owner: 'q' } }] } },
          ]),
        ).rejects.toThrow(/conditional attempt end/);
      });

      it('admits under admitWithin in batch order, counting the jobs of the type already admitted', async () => {
        const running = await submit({ jobType: 'capped' });
        await store.apply(running.id, admission());
        const waiting = [await submit({ jobType: 'capped' }), await submit({ jobType: 'capped' }), await submit({ jobType: 'capped' })];
        const results = await store.applyMany(waiting.map((job) => ({ jobId: job.id, changes: admission(job.revision, 3) })));
        expect(results.map((events) => events !== undefined)).toEqual([true, true, false]);
        expect((await store.activeJobsByType()).get('capped')).toBe(3);
      });

      it('does what apply does, one job after the other, for any batch (property)', async () => {
        const change = fc.record({
          to: fc.constantFrom('READY' as const, 'EXECUTING' as const, 'PAUSED' as const),
          task: fc.constantFrom('a', 'b', 'c'),
          taskTo: fc.constantFrom('READY' as const, 'COMPLETED' as const, 'SKIPPED' as const),
          staleRevision: fc.boolean(),
          taskExpectFails: fc.boolean(),
          admitWithin: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        });
        let round = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
            round++;
            // The same changes on two sets of jobs, of two types (so their max_concurrency counts are apart).
            const outcome = async (jobType: string, run: (batch: { jobId: string; changes: Changes }[]) => Promise<unknown[]>) => {
              const jobs: Awaited<ReturnType<typeof submit>>[] = [];
              for (const _ of changes) jobs.push(await submit({ jobType }));
              const batch = changes.map((c, i) => ({
                jobId: jobs[i]!.id,
                changes: {
                  at: at(7),
                  job: {
                    state: c.to,
                    revision: jobs[i]!.revision + (c.staleRevision ? 1 : 0),
                    ...(c.admitWithin === undefined ? {} : { admitWithin: c.admitWithin }),
                  },
                  tasks: [{ taskType: c.task, state: c.taskTo, ...(c.taskExpectFails ? { expect: { state: 'FAILED' as const } } : {}) }],
                },
              }));
              const written = (await run(batch)).map((events) => events !== undefined);
              const rows = await Promise.all(
                jobs.map(async (job) => [
                  (await store.job(job.id))?.state,
                  (await store.tasks(job.id)).map((t) => t.state),
                  (await store.timeline(job.id)).map((e) => [e.taskType, e.from, e.to]),
                ]),
              );
              return { written, rows };
            };
            const batched = await outcome(`batched-${round}`, async (batch) => [...(await store.applyMany(batch))]);
            const oneByOne = await outcome(`single-${round}`, async (batch) => {
              const results = [];
              for (const { jobId, changes: c } of batch) results.push(await store.apply(jobId, c));
              return results;
            });
            // With the caller's read as the basis (PostgreSQL writes each with one compare-and-set statement).
            const onBasis = await outcome(`basis-${round}`, async (batch) => {
              const read = await store.jobsWithTasks(batch.map((entry) => entry.jobId));
              const results = [];
              for (const { jobId, changes: c } of batch) results.push(await store.apply(jobId, c, read.get(jobId)));
              return results;
            });
            expect(batched).toEqual(oneByOne);
            expect(onBasis).toEqual(oneByOne);
          }),
          { numRuns: 25 },
        );
      });
    });

    describe('claiming', () => {
      it('claims a READY task once: new attempt, task and job EXECUTING', async () => {
        const job = await submit();
        await makeReady(job.id);
        const claimed = await store.claim({ jobId: job.id, taskType: 'a', antId: 'ant-1', at: at(10), jobTimeoutMs: 500 });
        expect(claimed?.attempt).toBe(1);
        expect(claimed?.runAttempts).toBe(1);
        expect(claimed?.events.map((e) => [e.taskType, e.from, e.to])).toEqual([
          ['a', 'READY', 'EXECUTING'],
          [undefined, 'READY', 'EXECUTING'],
        ]);
        expect(await store.claim({ jobId: job.id, taskType: 'a', antId: 'ant-2', at: at(11) })).toBeUndefined();
        expect(await store.claim({ jobId: job.id, taskType: 'b', antId: 'ant-2', at: at(11) })).toBeUndefined();
        const stored = await store.job(job.id);
        expect(stored).toMatchObject({ state: 'EXECUTING', startedAt: at(10), deadlineAt: at(510).getTime() });
        expect(await store.attempts(job.id)).toMatchObject([
          { taskType: 'a', attempt: 1, state: 'EXECUTING', antId: 'ant-1', startedAt: at(10) },
        ]);
        expect(await store.executingAttempts()).toMatchObject([{ owner: 'ant-1', leaseUntil: at(30_010).getTime() }]);
        expect(await store.executingAttempts('someone-else')).toEqual([]);
      });

      it('renews only the named attempts its owner still runs, so the others lapse', async () => {
        const [held, lost] = [await submit(), await submit()];
        for (const job of [held, lost]) {
          await makeReady(job.id);
          await store.claim({ jobId: job.id, taskType: 'a', antId: 'ant-1', owner: 'queen-1', at: at(10), leaseMs: 100 });
        }
        const key = (jobId: string, attempt = 1) => ({ jobId, taskType: 'a', attempt });
        // A stale attempt number, another owner's name, or nothing named: nothing renewed.
        expect(await store.renewLeases('queen-1', at(1000).getTime(), [key(lost.id, 2)])).toBe(0);
        expect(await store.renewLeases('queen-2', at(1000).getTime(), [key(held.id)])).toBe(0);
        expect(await store.renewLeases('queen-1', at(1000).getTime(), [])).toBe(0);
        expect(await store.renewLeases('queen-1', at(1000).getTime(), [key(held.id)])).toBe(1);
        expect((await store.expiredAttempts(at(500).getTime(), 10)).map((a) => a.jobId)).toEqual([lost.id]);
      });

      it('continues attempt numbers across retries and ends attempts', async () => {
        const job = await submit();
        await makeReady(job.id);
        await store.claim({ jobId: job.id, taskType: 'a', antId: 'x', at: at(1) });
        await store.apply(job.id, {
          at: at(2),
          attempts: [{ taskType: 'a', attempt: 1, state: 'FAILED', exitCode: 3, reason: 'exit code 3' }],
          tasks: [{ taskType: 'a', expect: { state: 'EXECUTING', attempt: 1 }, state: 'READY', notBefore: at(2).getTime() }],
        });
        const second = await store.claim({ jobId: job.id, taskType: 'a', antId: 'x', at: at(3) });
        expect(second).toMatchObject({ attempt: 2, runAttempts: 2 });
        expect((await store.attempts(job.id)).map((a) => [a.attempt, a.state, a.exitCode, a.endedAt?.getTime()])).toEqual([
          [1, 'FAILED', 3, at(2).getTime()],
          [2, 'EXECUTING', undefined, undefined],
        ]);
      });

      it('does not start tasks of a cancelled job but does for a timed-out one', async () => {
        const cancelled = await submit();
        await makeReady(cancelled.id);
        await store.apply(cancelled.id, { at: at(2), job: { stop: 'cancel' } });
        expect(await store.claim({ jobId: cancelled.id, taskType: 'a', antId: 'x', at: at(3) })).toBeUndefined();
        const timedOut = await submit();
        await makeReady(timedOut.id);
        await store.apply(timedOut.id, { at: at(2), job: { stop: 'timeout' } });
        expect(await store.claim({ jobId: timedOut.id, taskType: 'a', antId: 'x', at: at(3) })).toBeDefined();
      });
    });

    describe('picking and claiming in one step (claimNext)', () => {
      const kind = (jobType: string, taskType = 'a') => ({ jobType, version: 1, taskType });
      const next = (
        limit: number,
        take: (ReturnType<typeof kind> & { jobTimeoutMs?: number })[],
        skip: ReturnType<typeof kind>[] = [],
        antOrg?: string,
      ) => store.claimNext!({ antId: 'ant-1', owner: 'queen-1', at: at(10), limit, take, skip, ...(antOrg && { antOrg }) });

      it('claims the next ready tasks in priority order, stopping at the first kind it does not take', async () => {
        if (!store.claimNext || (await next(1, [])) === undefined) return; // this store picks in the scheduler
        const low = await submit({ priority: 10 });
        const high = await submit({ priority: 90 });
        const other = await submit({ priority: 50, jobType: 'other' });
        const high2 = await submit({ priority: 90 });
        for (const job of [low, high, other, high2]) await makeReady(job.id);
        const first = await next(3, [{ ...kind('test-job'), jobTimeoutMs: 500 }]);
        expect(first!.claimed.map((c) => [c.jobId, c.taskType, c.attempt, c.task.jobType])).toEqual([
          [high.id, 'a', 1, 'test-job'],
          [high2.id, 'a', 1, 'test-job'],
        ]);
        expect(first!.claimed[0]!.events.map((e) => [e.taskType, e.from, e.to])).toEqual([
          ['a', 'READY', 'EXECUTING'],
          [undefined, 'READY', 'EXECUTING'],
        ]);
        // The unknown kind stops the claim: it comes back unclaimed, and the lower-priority job is not looked at.
        expect(first!.unclaimed.map((t) => [t.jobId, t.jobType, t.priority])).toEqual([[other.id, 'other', 50]]);
        expect(await store.job(high.id)).toMatchObject({ state: 'EXECUTING', startedAt: at(10), deadlineAt: at(510).getTime() });
        expect(await store.executingAttempts()).toHaveLength(2);
        // What the claim returns to render from is what a read after it finds (the other tasks included).
        expect(first!.loaded).toEqual(await store.jobsWithTasks([high.id, high2.id]));
        expect(first!.loaded.get(high.id)?.tasks.map((t) => [t.taskType, t.state, t.attempt])).toEqual([
          ['a', 'EXECUTING', 1],
          ['b', 'PENDING', 0],
          ['c', 'PENDING', 0],
        ]);
        // Passed over as a kind this ant never runs: the next one is claimed.
        const second = await next(3, [kind('test-job')], [kind('other')]);
        expect(second!.claimed.map((c) => c.jobId)).toEqual([low.id]);
        expect(second!.unclaimed).toEqual([]);
        expect((await store.readyTasks(at(20).getTime(), 10)).map((t) => t.jobId)).toEqual([other.id]);
        expect(await next(3, [kind('test-job'), kind('other')], [], 'another-org')).toEqual({
          claimed: [],
          unclaimed: [],
          loaded: new Map(),
        });
        expect((await next(3, [kind('test-job'), kind('other')]))!.claimed.map((c) => c.jobId)).toEqual([other.id]);
      });

      it('leaves cancelled jobs and tasks still waiting, and refuses a limit that is not a positive integer', async () => {
        if (!store.claimNext || (await next(1, [])) === undefined) return;
        const cancelled = await submit();
        await makeReady(cancelled.id);
        await store.apply(cancelled.id, { at: at(2), job: { stop: 'cancel' } });
        const waiting = await submit();
        await store.apply(waiting.id, {
          at: at(1),
          job: { state: 'READY', reason: 'admitted' },
          tasks: [{ taskType: 'a', state: 'READY', notBefore: at(1000).getTime() }],
        });
        expect(await next(5, [kind('test-job')])).toEqual({ claimed: [], unclaimed: [], loaded: new Map() });
        await expect(next(0, [kind('test-job')])).rejects.toThrow(/limit/);
      });
    });

    describe('admitting in one step (admitNext)', () => {
      const kind = (jobType: string, maxConcurrency?: number) => ({
        jobType,
        version: 1,
        start: ['a'],
        ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
      });
      const admit = (limit: number, take: ReturnType<typeof kind>[]) => store.admitNext!({ at: at(10), limit, take });

      it('admits due jobs in priority order under max_concurrency, stopping at the first job the supervisor must plan', async () => {
        if (!store.admitNext || (await admit(1, [])) === undefined) return; // this store admits through applyMany only
        await store.saveDefinition(diamond, 'test-job', at(0));
        await store.saveDefinition({ ...diamond, jobType: 'other' }, 'other', at(0));
        const low = await submit({ priority: 10 });
        const high = await submit({ priority: 90 });
        const other = await submit({ priority: 50, jobType: 'other' });
        const high2 = await submit({ priority: 90 });
        const later = await submit({ priority: 99, scheduledAt: 1000 });
        const first = await admit(10, [kind('test-job', 2)]);
        // The unknown kind stops the walk: it and the lower-priority job behind it stay PENDING.
        expect(first).toMatchObject({ admitted: 2, picked: 4, held: 0, stoppedAt: { jobType: 'other', version: 1, known: false } });
        expect(first!.events.map((e) => [e.jobId, e.taskType, e.from, e.to, e.reason, e.at])).toEqual([
          [high.id, undefined, 'PENDING', 'READY', 'admitted', at(10)],
          [high.id, 'a', 'PENDING', 'READY', 'ready to run', at(10)],
          [high2.id, undefined, 'PENDING', 'READY', 'admitted', at(10)],
          [high2.id, 'a', 'PENDING', 'READY', 'ready to run', at(10)],
        ]);
        expect(await store.timeline(high.id)).toEqual([...(await store.timeline(high.id)).slice(0, 1), ...first!.events.slice(0, 2)]);
        const admitted = await store.jobsWithTasks([high.id, other.id, low.id, later.id]);
        expect(admitted.get(high.id)?.job).toMatchObject({ state: 'READY', revision: high.revision + 1 });
        expect(admitted.get(high.id)?.tasks.map((t) => [t.taskType, t.state])).toEqual([
          ['a', 'READY'],
          ['b', 'PENDING'],
          ['c', 'PENDING'],
        ]);
        for (const id of [other.id, low.id, later.id]) expect(admitted.get(id)?.job.state).toBe('PENDING');
        // The type is full (2 admitted): its next job is held back, not a stop; the other kind is admitted.
        const second = await admit(10, [kind('test-job', 2), kind('other')]);
        expect(second).toMatchObject({ admitted: 1, picked: 2, held: 1 });
        expect(second!.stoppedAt).toBeUndefined();
        expect((await store.job(other.id))?.state).toBe('READY');
        expect((await store.job(low.id))?.state).toBe('PENDING');
        expect(await store.activeJobsByType()).toEqual(
          new Map([
            ['test-job', 2],
            ['other', 1],
          ]),
        );
      });

      it('leaves to the supervisor a job with a stop mark or a task already moved, and refuses a limit that is not a positive integer', async () => {
        if (!store.admitNext || (await admit(1, [])) === undefined) return;
        const cancelled = await submit({ priority: 90 });
        await store.apply(cancelled.id, { at: at(2), job: { stop: 'cancel' } });
        const retried = await submit({ priority: 50 });
        await store.apply(retried.id, { at: at(2), tasks: [{ taskType: 'a', state: 'COMPLETED' }] });
        expect(await admit(10, [kind('test-job')])).toMatchObject({
          admitted: 0,
          events: [],
          stoppedAt: { jobType: 'test-job', version: 1, known: true },
        });
        await store.apply(cancelled.id, { at: at(3), job: { state: 'CANCELLED' } });
        expect(await admit(10, [kind('test-job')])).toMatchObject({ admitted: 0, picked: 1, stoppedAt: { known: true } });
        expect((await store.job(retried.id))?.state).toBe('PENDING');
        await expect(admit(0, [kind('test-job')])).rejects.toThrow(/limit/);
        await expect(admit(1, [{ ...kind('test-job'), start: [] }])).rejects.toThrow(/starts no task/);
      });
    });

    describe('scheduling queries', () => {
      it('returns due PENDING jobs by priority then submission, honouring scheduled_at', async () => {
        const low = await submit({ priority: 10 });
        const high = await submit({ priority: 90 });
        const later = await submit({ priority: 99, scheduledAt: 1000 });
        const high2 = await submit({ priority: 90 });
        expect((await store.duePendingJobs(at(500).getTime(), 10)).map((j) => j.id)).toEqual([high.id, high2.id, low.id]);
        expect((await store.duePendingJobs(at(1000).getTime(), 10)).map((j) => j.id)).toEqual([later.id, high.id, high2.id, low.id]);
        expect(await store.duePendingJobs(at(1000).getTime(), 2)).toHaveLength(2);
        expect((await store.duePendingJobs(at(1000).getTime(), 2, 2)).map((j) => j.id)).toEqual([high2.id, low.id]);
        expect(await store.nextWakeAt()).toBe(at(0).getTime());
        // After a moment: only what becomes due later (the scheduler's timer; what is due a pass saw).
        expect(await store.nextWakeAt(at(500).getTime())).toBe(at(1000).getTime());
        expect(await store.nextWakeAt(at(1000).getTime())).toBeUndefined();
      });

      it('returns READY tasks whose wait is over, of active jobs, by priority', async () => {
        const low = await submit({ priority: 1 });
        const high = await submit({ priority: 80 });
        await makeReady(low.id);
        await makeReady(high.id);
        await store.apply(high.id, { at: at(1), tasks: [{ taskType: 'b', state: 'READY', notBefore: at(100).getTime() }] });
        const now = at(50).getTime();
        expect((await store.readyTasks(now, 10)).map((t) => [t.jobId, t.taskType])).toEqual([
          [high.id, 'a'],
          [low.id, 'a'],
        ]);
        expect((await store.readyTasks(at(100).getTime(), 10)).map((t) => [t.jobId, t.taskType])).toEqual([
          [high.id, 'a'],
          [high.id, 'b'],
          [low.id, 'a'],
        ]);
        expect(await store.readyTasks(now, 1)).toHaveLength(1);
        expect((await store.readyTasks(at(100).getTime(), 10, 1)).map((t) => [t.jobId, t.taskType])).toEqual([
          [high.id, 'b'],
          [low.id, 'a'],
        ]);
        expect((await store.activeJobsByType()).get('test-job')).toBe(2);
        expect((await store.activeJobs()).map((j) => j.id)).toEqual([low.id, high.id]);
        // A paused job starts nothing but keeps its max_concurrency place.
        await store.apply(low.id, { at: at(2), job: { state: 'PAUSED' } });
        expect((await store.readyTasks(now, 10)).map((t) => t.jobId)).toEqual([high.id]);
        expect(await store.claim({ jobId: low.id, taskType: 'a', antId: 'ant', at: at(3) })).toBeUndefined();
        expect((await store.activeJobsByType()).get('test-job')).toBe(2);
      });

      it('finds jobs past their deadline and wakes for the earliest due moment', async () => {
        const job = await submit({ scheduledAt: 5000 });
        expect(await store.nextWakeAt()).toBe(at(5000).getTime());
        await store.apply(job.id, { at: at(1), job: { state: 'READY', deadlineAt: at(300).getTime() } });
        expect(await store.nextWakeAt()).toBe(at(300).getTime());
        expect(await store.expiredJobs(at(299).getTime())).toEqual([]);
        expect((await store.expiredJobs(at(300).getTime())).map((j) => j.id)).toEqual([job.id]);
        await store.apply(job.id, { at: at(2), job: { stop: 'timeout' } });
        expect(await store.expiredJobs(at(300).getTime())).toEqual([]);
      });
    });

    describe('logs and ants', () => {
      it('appends log lines in order and reads them by task and after a sequence number', async () => {
        const job = await submit();
        const lines = await store.appendLogs([
          { jobId: job.id, taskType: 'a', attempt: 1, stream: 'stdout', at: at(1), text: 'one' },
          { jobId: job.id, taskType: 'b', attempt: 1, stream: 'stderr', at: at(2), text: 'two' },
          { jobId: job.id, taskType: 'a', attempt: 2, stream: 'system', at: at(3), text: 'three' },
        ]);
        expect(lines.map((l) => l.text)).toEqual(['one', 'two', 'three']);
        expect(lines[1]!.seq).toBeGreaterThan(lines[0]!.seq);
        expect((await store.logs(job.id)).map((l) => [l.taskType, l.attempt, l.stream, l.text, l.at.getTime()])).toEqual([
          ['a', 1, 'stdout', 'one', at(1).getTime()],
          ['b', 1, 'stderr', 'two', at(2).getTime()],
          ['a', 2, 'system', 'three', at(3).getTime()],
        ]);
        expect((await store.logs(job.id, { taskType: 'a' })).map((l) => l.text)).toEqual(['one', 'three']);
        expect((await store.logs(job.id, { afterSeq: lines[0]!.seq })).map((l) => l.text)).toEqual(['two', 'three']);
        expect((await store.logs(job.id, { limit: 1 })).map((l) => l.text)).toEqual(['one']);
        expect(await store.appendLogs([])).toEqual([]);
      });

      it('stores a log batch of an attempt once, however often and however concurrently it is appended', async () => {
        const job = await submit();
        const line = (text: string, attempt = 1) => ({ jobId: job.id, taskType: 'a', attempt, stream: 'stdout' as const, at: at(1), text });
        const batch = (n: number, attempt = 1) => ({ jobId: job.id, taskType: 'a', attempt, batch: n });
        expect((await store.appendLogs([line('b0')], batch(0))).map((l) => l.text)).toEqual(['b0']);
        // Re-sent after its ack was lost: nothing written.
        expect(await store.appendLogs([line('b0')], batch(0))).toEqual([]);
        // Two queens receiving the same batch at once: one writes it.
        const both = await Promise.all([store.appendLogs([line('b1')], batch(1)), store.appendLogs([line('b1')], batch(1))]);
        expect(both.map((lines) => lines.length).sort()).toEqual([0, 1]);
        // The numbers are per attempt: the next attempt's batch 0 is its own.
        expect(await store.appendLogs([line('c0', 2)], batch(0, 2))).toHaveLength(1);
        expect((await store.logs(job.id)).map((l) => `${l.attempt} ${l.text}`)).toEqual(['1 b0', '1 b1', '2 c0']);
      });

      it('grants a lease to one holder at a time until it expires, is released or its holder is gone', async () => {
        expect(await store.acquireLease('queen', 'q1', 1000, 0)).toEqual({ acquired: true, holder: 'q1', expiresAt: 1000 });
        expect(await store.acquireLease('queen', 'q2', 1000, 500)).toEqual({ acquired: false, holder: 'q1', expiresAt: 1000 });
        expect(await store.acquireLease('queen', 'q1', 1000, 600)).toEqual({ acquired: true, holder: 'q1', expiresAt: 1600 });
        expect(await store.acquireLease('queen', 'q2', 1000, 700, 'q1')).toMatchObject({
          acquired: true,
          holder: 'q2',
        });
        expect(await store.acquireLease('queen', 'q3', 1000, 2000)).toMatchObject({ acquired: true, holder: 'q3' });
        await store.releaseLease('queen', 'q2');
        expect(await store.acquireLease('queen', 'q4', 1000, 2100)).toMatchObject({ acquired: false, holder: 'q3' });
        await store.releaseLease('queen', 'q3');
        expect(await store.acquireLease('queen', 'q4', 1000, 2100)).toMatchObject({ acquired: true, holder: 'q4' });
        expect(await store.acquireLease('other', 'q5', 1000, 2100)).toMatchObject({ acquired: true, holder: 'q5' });
      });

      it('saves and lists ants', async () => {
        await store.saveAnt({ id: 'ant-1', methods: ['SHELL'], tags: ['gpu'], capacity: 2, running: 0, lastSeenAt: at(1) });
        await store.saveAnt({ id: 'ant-1', methods: ['SHELL', 'HTTP_GET'], tags: [], capacity: 3, running: 1, lastSeenAt: at(2) });
        // toMatchObject: the remote-ant columns (issue 12) add fields this contract does not set.
        expect(await store.ants()).toMatchObject([
          { id: 'ant-1', methods: ['SHELL', 'HTTP_GET'], tags: [], capacity: 3, running: 1, lastSeenAt: at(2) },
        ]);
      });
    });
  });
}
