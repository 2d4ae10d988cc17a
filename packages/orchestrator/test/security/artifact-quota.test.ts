import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The queens come from the package, as the helpers that wait on them take its type.
import { openStoreSync, PostgresStore, Queen } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { describe, expect, it } from 'vitest';
import { ArtifactQuotaExceeded, LocalBlobStore } from '../../src/artifacts/index.js';
import { startAnt, startQueen, useFrontQueen } from '../ant/remote/harness.js';
import { finished } from '../queen/helpers.js';

const gate = await postgres();

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const file = (path: string, size: number, n = 1) => ({ path, digest: digest(n), size, mode: 0o644 });

/** One task that leaves one artifact of `bytes` bytes. */
const MAKES = (jobType: string, bytes: number) =>
  `job_type: ${jobType}\ntasks:\n  - task_type: make\n    method: SHELL\n    script: ["head -c ${bytes} /dev/zero > out.bin"]\n    artifacts: { paths: [out.bin] }\n`;

gate.describe('artifact storage quota on PostgreSQL', () => {
  it('recordings racing through separate connections never pass the hard limit; past the soft one they warn and are kept', async () => {
    const db = await gate.freshDatabase();
    // Four stores, four pools: as four queens, each recording on its own connections.
    const stores = Array.from({ length: 4 }, () => PostgresStore.open({ url: db.url }));
    const queen = await Queen.open({ store: PostgresStore.open({ url: db.url }) });
    try {
      const [first] = stores;
      await first!.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await queen.applyDefinition(MAKES('build', 1), undefined, 'acme');
      const job = await queen.submit({ jobType: 'build', org: 'acme' });
      await first!.quotas().setLimit({ org: 'acme', resource: 'artifact_bytes', hard: 1000, soft: 500 }, new Date());
      const catalogs = stores.map((store) => store.artifacts());
      // 12 files of 300 bytes, three per store, all at once: 1000 bytes hold three of them.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          catalogs[i % 4]!.record(job.id, 'make', i + 1, { files: [file(`f${i}.bin`, 300, i + 1)], missing: [] }, new Date()),
        ),
      );
      const kept = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
      expect(kept).toHaveLength(3);
      expect(refused).toHaveLength(9);
      for (const error of refused) {
        expect(error).toBeInstanceOf(ArtifactQuotaExceeded);
        expect(error.message).toMatch(
          /^f\d+\.bin \(300 bytes\) was not stored: artifact storage quota, org acme at quota 1200\/1000 artifact bytes$/,
        );
      }
      // The first fits under the soft limit; the two after it pass it, and say so.
      expect(kept.map((k) => k.warnings).sort()).toEqual([
        [],
        ['org acme at soft quota 600/500 artifact bytes'],
        ['org acme at soft quota 900/500 artifact bytes'],
      ]);
      expect((await first!.artifacts().list(job.id, new Date())).map((r) => r.size)).toEqual([300, 300, 300]);
      expect((await first!.quotas().usage('acme', Date.now())).find((u) => u.resource === 'artifact_bytes')?.used).toBe(900);
      // Recording a kept file again (a result delivered twice) adds nothing, so it is neither refused nor warned about.
      const [stored] = await first!.artifacts().list(job.id, new Date());
      const again = { files: [file(stored!.path, 300, stored!.attempt)], missing: [] };
      expect(await catalogs[1]!.record(job.id, 'make', stored!.attempt, again, new Date())).toEqual({ warnings: [] });
    } finally {
      await queen.stop();
      await Promise.all(stores.map((store) => store.close()));
      await db.dispose();
    }
  }, 60_000);

  it("two queens' embedded ants storing artifacts at once never pass the hard limit; a refused attempt fails saying why", async () => {
    const db = await gate.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-artifact-quota-'));
    const open = () =>
      Queen.open({
        store: PostgresStore.open({ url: db.url }),
        blobs: new LocalBlobStore(join(dir, 'blobs')),
        ant: { capacity: 4 },
        pollIntervalMs: 20,
      });
    const first = await open();
    const second = await open();
    const store = PostgresStore.open({ url: db.url });
    try {
      await store.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await store.quotas().setLimit({ org: 'acme', resource: 'artifact_bytes', hard: 1000 }, new Date());
      await first.applyDefinition(MAKES('build', 300), undefined, 'acme');
      const jobs = await first.submitMany(Array.from({ length: 8 }, () => ({ jobType: 'build', org: 'acme' })));
      await first.start();
      await second.start();
      const ended = await Promise.all(jobs.map((job) => finished(first, job.id, 60_000)));
      expect(ended.filter((job) => job.state === 'COMPLETED')).toHaveLength(3);
      const failed = ended.filter((job) => job.state === 'FAILED');
      expect(failed).toHaveLength(5);
      expect(failed[0]!.tasks[0]?.attempts[0]?.reason).toMatch(
        /^exit code 0: artifacts: out\.bin \(300 bytes\) was not stored: artifact storage quota, org acme at quota 1200\/1000/,
      );
      expect((await store.quotas().usage('acme', Date.now()))[0]?.used).toBe(900);
    } finally {
      await second.stop();
      await first.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      await db.dispose();
    }
  }, 120_000);
});

describe('artifact storage quota on an embedded ant (SQLite)', () => {
  it('a soft limit admits the files and says so in the attempt log; a hard one fails the attempt and stores nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-artifact-quota-'));
    const store = openStoreSync(join(dir, 'myrmex.db'));
    const queen = await Queen.open({ store, ant: { capacity: 1 }, pollIntervalMs: 20 });
    try {
      await queen.start();
      await store.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await store.quotas().setLimit({ org: 'acme', resource: 'artifact_bytes', hard: 1000, soft: 100 }, new Date());
      await queen.applyDefinition(MAKES('small', 400), undefined, 'acme');
      await queen.applyDefinition(MAKES('large', 700), undefined, 'acme');
      const small = await finished(queen, (await queen.submit({ jobType: 'small', org: 'acme' })).id);
      expect(small.state).toBe('COMPLETED');
      const lines = (await store.logs(small.id)).map((l) => l.text);
      expect(lines).toContain('artifacts stored over a soft quota: org acme at soft quota 400/100 artifact bytes');
      const large = await finished(queen, (await queen.submit({ jobType: 'large', org: 'acme' })).id);
      expect(large.state).toBe('FAILED');
      expect(large.tasks[0]?.attempts[0]?.reason).toBe(
        'exit code 0: artifacts: out.bin (700 bytes) was not stored: artifact storage quota, org acme at quota 1100/1000 artifact bytes',
      );
      expect(await store.artifacts().list(large.id, new Date())).toEqual([]);
    } finally {
      await queen.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('artifact storage quota on a remote ant', () => {
  const TOKEN = 'artifact-quota-ant-token-0123456789';
  const fx = useFrontQueen('myrmex-artifact-quota-remote-');

  it("an upload past the soft limit is stored and said in the attempt's log; past the hard one it is refused (413) and fails the attempt", async () => {
    const side = openStoreSync(fx.db);
    await side.quotas().setLimit({ org: 'default', resource: 'artifact_bytes', hard: 1000, soft: 100 }, new Date());
    await side.close();
    const q = await startQueen({ db: fx.db, tokens: TOKEN, leaseMs: 3000, artifactsDir: join(fx.dir, 'artifacts') });
    fx.procs.push(q);
    const a = await startAnt({ servers: [q.url], token: TOKEN, id: 'ant-q', tags: [], stateDir: join(fx.dir, 'state-ant-q') });
    fx.procs.push(a);
    await a.line(/^connected /);
    await fx.front.applyDefinition(MAKES('small', 400));
    await fx.front.applyDefinition(MAKES('large', 700));
    const small = await fx.finished((await fx.front.submit({ jobType: 'small' })).id);
    expect(small.state).toBe('COMPLETED');
    expect((await fx.front.logs(small.id)).map((l) => l.text)).toContain(
      'artifacts stored over a soft quota: org default at soft quota 400/100 artifact bytes',
    );
    const large = await fx.finished((await fx.front.submit({ jobType: 'large' })).id);
    expect(large.state).toBe('FAILED');
    expect(large.tasks[0]?.attempts[0]?.reason).toMatch(
      /out\.bin \(700 bytes\) was not stored: artifact storage quota, org default at quota 1100\/1000 artifact bytes$/,
    );
    expect(await fx.front.artifacts(large.id)).toEqual([]);
  }, 120_000);
});
