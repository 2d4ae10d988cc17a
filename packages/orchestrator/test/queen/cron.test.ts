import { checkJobDefinition, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cronProblem, cronSchedule, cronSlotAt } from '../../src/definition/cron.js';
import { CronTriggers, cronJobId } from '../../src/queen/cron.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { finished, source, startQueen, TEST_METHODS, tempDb, until } from './helpers.js';

describe('cron_trigger schedules', () => {
  it('reads 5, 6 and 7 fields, Quartz steps and a time zone prefix', () => {
    const at = new Date('2026-03-10T10:31:10Z');
    const slot = (trigger: string) => cronSlotAt(cronSchedule(trigger), at)?.toISOString();
    expect(slot('0 * * * *')).toBe('2026-03-10T10:00:00.000Z');
    expect(slot('0 * * * * *')).toBe('2026-03-10T10:31:00.000Z');
    expect(slot('0 * * * * * *')).toBe('2026-03-10T10:31:00.000Z');
    expect(slot('0 0/30 * * * * *')).toBe('2026-03-10T10:30:00.000Z');
    // 09:00 in Paris (UTC+1 in March before the change) is 08:00 UTC.
    expect(slot('TZ=Europe/Paris 0 9 * * *')).toBe('2026-03-10T08:00:00.000Z');
    expect(slot('CRON_TZ=UTC 0 9 * * *')).toBe('2026-03-10T09:00:00.000Z');
    // A slot exactly at `at` is due.
    expect(cronSlotAt(cronSchedule('10 31 10 * * *'), at)?.toISOString()).toBe(at.toISOString());
  });

  it('the slot at a time is the latest one not after it: the next one is after it', () => {
    const patterns = ['0 * * * *', '*/7 * * * * *', '0 0/30 * * * * *', '0 0 */4 * * * *', '15 10 * * 1-5'];
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }),
        (pattern, at) => {
          const cron = cronSchedule(pattern);
          const slot = cronSlotAt(cron, at)!;
          expect(slot.getTime()).toBeLessThanOrEqual(at.getTime());
          expect(cron.nextRun(slot)!.getTime()).toBeGreaterThan(at.getTime());
        },
      ),
    );
  });

  it('validation names cron_trigger when the text is no schedule or the zone is unknown', () => {
    const errors = (cron: string) => {
      const result = checkJobDefinition(JSON.stringify({ job_type: 'c', cron_trigger: cron, tasks: [{ task_type: 't', script: ['x'] }] }), {
        fileName: 'c.json',
        methods: TEST_METHODS,
      });
      return result.ok ? [] : result.errors.map((e) => e.message);
    };
    expect(errors('0 * * * *')).toEqual([]);
    expect(errors('every minute')[0]).toMatch(/^cron_trigger: not a cron schedule .*exactly five, six, or seven/);
    expect(errors('TZ=Mars/Olympus 0 * * * *')[0]).toMatch(/^cron_trigger: not a cron schedule .*Mars\/Olympus/);
    expect(cronProblem('61 * * * *')).toMatch(/not a cron schedule/);
  });
});

describe('cron triggers submit once per slot, decided by the database', () => {
  it('two queens firing the same slot at once make one job; a later pass makes none; missed slots coalesce', async () => {
    const path = tempDb();
    const setup = await startQueen({ dbPath: path, ant: { capacity: 0 } });
    await setup.applyDefinition(source('every-minute', [{ task_type: 't', script: ['log tick'] }], { cron_trigger: '0 * * * * * *' }));
    await setup.applyDefinition(source('never-cron', [{ task_type: 't', script: ['log no'] }]));
    const applied = (await setup.listDefinitions()).find((d) => d.jobType === 'every-minute')!.createdAt;
    const stores = [SqliteStore.open({ path }), SqliteStore.open({ path })];
    try {
      const triggers = stores.map((store) => new CronTriggers({ store, committed: () => {} }));
      const next = cronSchedule('0 * * * * * *').nextRun(applied)!;
      const at = new Date(next.getTime() + 5_000);
      const made = await Promise.all(triggers.flatMap((t) => [t.fire(at), t.fire(at), t.fire(at)]));
      const id = cronJobId('every-minute', next);
      expect(made.flat()).toEqual([id]);
      expect(await setup.getJob(id)).toMatchObject({ jobType: 'every-minute', params: {} });
      expect(await triggers[1]!.fire(new Date(next.getTime() + 50_000))).toEqual([]);
      // Three slots later with nobody firing in between: the latest slot runs, once.
      const later = new Date(next.getTime() + 3 * 60_000 + 1_000);
      expect(await triggers[0]!.fire(later)).toEqual([cronJobId('every-minute', new Date(next.getTime() + 3 * 60_000))]);
      // A slot before the definition was applied never runs.
      expect(await triggers[0]!.fire(new Date(applied.getTime() - 60_000))).toEqual([]);
      const jobs = (await setup.listJobs({ limit: 100 })).items.map((j) => j.jobType);
      expect(jobs.sort()).toEqual(['every-minute', 'every-minute']);
      await setup.disableDefinition('every-minute');
      expect(await triggers[0]!.fire(new Date(next.getTime() + 10 * 60_000))).toEqual([]);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});

describe('the queen runs the trigger loop', () => {
  it('a started queen submits each slot of an every-second trigger by itself; skip_if ends such a job at admission', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(source('each-second', [{ task_type: 't', script: ['log tick'] }], { cron_trigger: '* * * * * *' }));
    const job = await until(async () => (await queen.listJobs({ limit: 10 })).items.find((j) => j.jobType === 'each-second'));
    // Its id is its slot's: the second it was submitted in, or one a little before when the pass ran late.
    const second = Math.floor(job.submittedAt.getTime() / 1000) * 1000;
    const slots = Array.from({ length: 10 }, (_, late) => cronJobId('each-second', new Date(second - late * 1000)));
    expect(slots).toContain(job.id);
    expect((await finished(queen, job.id)).state).toBe('COMPLETED');

    await queen.applyDefinition(
      source('skipped', [{ task_type: 't', script: ['log never'] }], {
        skip_if: '{{if eq .Env "staging"}} true {{end}}',
        job_variables: { Env: 'staging' },
      }),
    );
    const skipped = await finished(queen, (await queen.submit({ jobType: 'skipped' })).id);
    expect(skipped).toMatchObject({ state: 'COMPLETED', reason: 'skipped: skip_if is true' });
    expect(skipped.tasks.map((t) => [t.state, t.attempts.length])).toEqual([['SKIPPED', 0]]);
    expect((await finished(queen, (await queen.submit({ jobType: 'skipped', params: { Env: 'prod' } })).id)).tasks[0]!.state).toBe(
      'COMPLETED',
    );
    await queen.applyDefinition(
      source('bad-skip', [{ task_type: 't', script: ['log never'] }], { skip_if: '{{if lt .Env 3}} true {{end}}' }),
    );
    const bad = await finished(queen, (await queen.submit({ jobType: 'bad-skip', params: { Env: 'x' } })).id);
    expect(bad.state).toBe('FAILED');
    expect(bad.reason).toMatch(/^skip_if could not be evaluated: /);
  });
});

const pg = await postgres();

pg.describe('cron triggers on PostgreSQL', () => {
  it('queens on two connection pools firing the same slots at once submit each slot once', async () => {
    const db = await pg.freshDatabase();
    const setup = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 }, cron: false });
    const stores = [PostgresStore.open({ url: db.url }), PostgresStore.open({ url: db.url })];
    try {
      await setup.start();
      await setup.applyDefinition(
        source('pg-minute', [{ task_type: 't', method: 'SHELL', script: ['true'] }], { cron_trigger: '0 * * * * *' }),
      );
      const applied = (await setup.listDefinitions()).find((d) => d.jobType === 'pg-minute')!.createdAt;
      const triggers = stores.map((store) => new CronTriggers({ store, committed: () => {} }));
      const first = cronSchedule('0 * * * * *').nextRun(applied)!;
      for (let minute = 0; minute < 5; minute++) {
        const slot = new Date(first.getTime() + minute * 60_000);
        const made = await Promise.all(triggers.flatMap((t) => [t.fire(slot), t.fire(new Date(slot.getTime() + 30_000))]));
        expect(made.flat(), `slot ${slot.toISOString()}`).toEqual([cronJobId('pg-minute', slot)]);
      }
      expect((await setup.listJobs({ limit: 100 })).items).toHaveLength(5);
    } finally {
      for (const store of stores) await store.close();
      await setup.stop();
      await db.dispose();
    }
  });
});
