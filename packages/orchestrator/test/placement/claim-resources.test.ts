import { type JobStore, PostgresStore, SqliteStore } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { definition } from '../engine/definitions.js';

const gate = await postgres();

/** The claim's resource check, on each dialect: what the ant's EXECUTING attempts hold is not given twice. */
function describeClaims(name: string, open: () => Promise<{ store: JobStore; dispose: () => Promise<void> }>): void {
  describe(`claims with placement resources: ${name}`, () => {
    let opened: { store: JobStore; dispose: () => Promise<void> } | undefined;
    afterEach(async () => {
      await opened?.dispose();
    });
    const at = (ms: number) => new Date(1_800_000_000_000 + ms);

    async function readyJobs(store: JobStore, count: number): Promise<string[]> {
      await store.saveDefinition(definition([{ task_type: 'a' }]), 'source', at(0));
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const { job } = await store.createJob({
          id: `job-${i}`,
          jobType: 'test-job',
          version: 1,
          priority: 50,
          params: {},
          submittedAt: at(i),
          scheduledAt: at(0),
          taskTypes: ['a'],
        });
        await store.apply(job.id, { at: at(1), job: { state: 'READY', reason: 'admitted' }, tasks: [{ taskType: 'a', state: 'READY' }] });
        ids.push(job.id);
      }
      return ids;
    }
    const ant = (id: string, resources: Record<string, string>) => ({
      id,
      methods: ['TEST'],
      tags: [],
      capacity: 8,
      running: 0,
      lastSeenAt: at(0),
      resources,
      labels: {},
    });
    const claim = (jobId: string, antId: string, resources?: Record<string, number>) => ({
      jobId,
      taskType: 'a',
      antId,
      at: at(2),
      ...(resources && { resources }),
    });

    it('takes what is free on the ant, refuses the rest, and gives it again once an attempt ends', async () => {
      opened = await open();
      const { store } = opened;
      const [j1, j2, j3] = await readyJobs(store, 3);
      await store.saveAnt(ant('box', { gpu: '2', memory: '1Gi' }));
      const first = await store.claimMany([
        claim(j1!, 'box', { gpu: 1, memory: 512 }),
        claim(j2!, 'box', { gpu: 1 }),
        claim(j3!, 'box', { gpu: 1 }),
      ]);
      expect(first.map((c) => c.jobId)).toEqual([j1, j2]);
      // 512 MiB of memory are held too: 600 more do not fit in 1 GiB.
      expect(await store.claimMany([claim(j3!, 'box', { memory: 600 })])).toEqual([]);
      await store.apply(j1!, {
        at: at(3),
        attempts: [{ taskType: 'a', attempt: 1, state: 'COMPLETED' }],
        tasks: [{ taskType: 'a', state: 'COMPLETED' }],
      });
      expect((await store.claimMany([claim(j3!, 'box', { gpu: 1, memory: 600 })])).map((c) => c.jobId)).toEqual([j3]);
    });

    it('refuses resources on an ant the registry does not know, and does not meter an ant that advertises none', async () => {
      opened = await open();
      const { store } = opened;
      const [j1, j2, j3] = await readyJobs(store, 3);
      expect(await store.claimMany([claim(j1!, 'ghost', { cpu: 1 })])).toEqual([]);
      await store.saveAnt(ant('plain', {}));
      expect((await store.claimMany([claim(j1!, 'plain', { cpu: 64 }), claim(j2!, 'plain', { cpu: 64 })])).length).toBe(2);
      // A claim without resources is never checked.
      expect((await store.claimMany([claim(j3!, 'ghost')])).length).toBe(1);
    });
  });
}

describeClaims('SQLite', async () => {
  const store = SqliteStore.open({ path: ':memory:' });
  return { store, dispose: () => store.close() };
});

if (gate.availability.available) {
  describeClaims('PostgreSQL', async () => {
    const db = await gate.freshDatabase();
    const store = PostgresStore.open({ url: db.url, poolSize: 2 });
    return {
      store,
      dispose: async () => {
        await store.close();
        await db.dispose();
      },
    };
  });
}
