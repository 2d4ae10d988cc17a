import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJobDefinition } from '../../src/definition/index.js';
import {
  ForeignResourceError,
  issueToken,
  PostgresStore,
  QuotaExceededError,
  SqliteStore,
  type SqlStore,
  verifyChain,
} from '../../src/index.js';
import { migrations } from '../../src/store/sql/migrations.js';
import { job, makeReady } from './harness.js';

const gate = await postgres();

type Opened = { store: SqlStore; dispose(): Promise<void> };

function securityContract(name: string, open: () => Promise<Opened>, openSecond: (first: Opened) => Promise<Opened>) {
  describe(`SecurityStore on ${name}`, () => {
    const opened: Opened[] = [];
    const fresh = async () => {
      const o = await open();
      opened.push(o);
      return o.store;
    };
    afterEach(async () => {
      for (const o of opened.splice(0).reverse()) await o.dispose();
    });

    it('keeps organisations, users, roles and teams', async () => {
      const sec = (await fresh()).security();
      expect((await sec.orgs()).map((o) => o.id)).toEqual(['default']);
      await sec.createOrg({ id: 'acme', name: 'Acme', quota: { maxJobs: 3 } }, new Date(1000));
      expect(await sec.org('acme')).toEqual({ id: 'acme', name: 'Acme', createdAt: new Date(1000), quota: { maxJobs: 3 } });
      await sec.createUser({ id: 'u1', name: 'ada', platformAdmin: true }, new Date(5));
      expect((await sec.user('u1'))?.platformAdmin).toBe(true);
      await sec.setRole('acme', 'u1', 'viewer');
      await sec.setRole('acme', 'u1', 'operator');
      expect(await sec.role('acme', 'u1')).toBe('operator');
      expect(await sec.role('default', 'u1')).toBeUndefined();
      expect((await sec.members('acme')).map(({ user, role }) => [user.id, role])).toEqual([['u1', 'operator']]);
      expect(await sec.members('default')).toEqual([]);
      await sec.createTeam({ id: 't1', orgId: 'acme', name: 'builders' });
      await sec.addTeamMember('t1', 'u1');
      await sec.addTeamMember('t1', 'u1');
      expect(await sec.teams('acme')).toEqual([{ id: 't1', orgId: 'acme', name: 'builders', members: ['u1'] }]);
      await expect(sec.createOrg({ id: 'acme', name: 'Other' }, new Date())).rejects.toThrow();
    });

    it('stores tokens by hash, lists them without it, and revokes them once, in their own organisation only', async () => {
      const sec = (await fresh()).security();
      await sec.createOrg({ id: 'acme', name: 'Acme' }, new Date());
      const issued = issueToken(Buffer.alloc(32, 7));
      await sec.saveToken({
        id: issued.id,
        hash: issued.hash,
        orgId: 'acme',
        name: 'ci',
        scopes: ['read', 'submit'],
        createdAt: new Date(10),
      });
      expect(await sec.token(issued.id)).toMatchObject({ id: issued.id, hash: issued.hash, orgId: 'acme', scopes: ['read', 'submit'] });
      expect(JSON.stringify(await sec.tokens('acme'))).not.toContain(issued.hash);
      await sec.touchToken(issued.id, new Date(20));
      expect((await sec.token(issued.id))?.lastUsedAt).toEqual(new Date(20));
      expect(await sec.revokeToken('default', issued.id, new Date(30))).toBe(false);
      expect(await sec.revokeToken('acme', issued.id, new Date(30))).toBe(true);
      expect(await sec.revokeToken('acme', issued.id, new Date(31))).toBe(false);
      expect((await sec.token(issued.id))?.revokedAt).toEqual(new Date(30));
      expect(await sec.countTokens()).toBe(1);
      const shared = issueToken(Buffer.alloc(32, 7));
      await sec.saveToken({
        id: shared.id,
        hash: shared.hash,
        orgId: 'default',
        name: 'fleet',
        scopes: ['ant'],
        createdAt: new Date(),
        antShared: true,
      });
      expect((await sec.token(shared.id))?.antShared).toBe(true);
      expect((await sec.token(issued.id))?.antShared).toBeUndefined();
    });

    it('gives a job type to the organisation that first applied it and refuses it to another', async () => {
      const store = await fresh();
      const definition = parseJobDefinition('job_type: owned\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["true"]\n');
      await store.saveDefinition(definition, 'x', new Date(), 'default');
      await store.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await expect(store.saveDefinition(definition, 'x', new Date(), 'acme')).rejects.toBeInstanceOf(ForeignResourceError);
      expect(await store.security().definitionOrg('owned')).toBe('default');
      expect((await store.saveDefinition(definition, 'x', new Date())).created).toBe(false);
    });

    it('files jobs under their organisation and lists them per organisation', async () => {
      const store = await fresh();
      await store.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await store.createJobs([job('a1', 'acme'), job('d1', 'default'), job('a2', 'acme')]);
      expect(await store.security().jobOrg('a1')).toBe('acme');
      expect((await store.listJobs({ org: 'acme' })).items.map((j) => j.id).sort()).toEqual(['a1', 'a2']);
      expect((await store.listJobs({ org: 'default', count: 'exact' })).total).toBe(1);
    });

    it('decides a quota in the submission transaction: queens racing for the last slots never overshoot', async () => {
      const first = await fresh();
      const second = (await openSecond(opened[0] as Opened)).store;
      await first.security().createOrg({ id: 'acme', name: 'Acme', quota: { maxJobs: 5 } }, new Date());
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? first : second).createJobs([job(`j${i}`, 'acme')])),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      expect(results.length - refused.length).toBe(5);
      for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(QuotaExceededError);
      expect((await first.listJobs({ org: 'acme', count: 'exact' })).total).toBe(5);
      await first.security().setQuota('acme', { maxQueued: 6 });
      await first.createJobs([job('k1', 'acme')]);
      await expect(first.createJobs([job('k2', 'acme')])).rejects.toThrow(/6 queued jobs; its quota allows 6/);
    });

    it('limits submissions per minute in the submission transaction: queens racing for the window never overshoot', async () => {
      const first = await fresh();
      const second = (await openSecond(opened[0] as Opened)).store;
      await first.security().createOrg({ id: 'acme', name: 'Acme', quota: { maxSubmitsPerMinute: 5 } }, new Date());
      expect((await second.security().org('acme'))?.quota).toEqual({ maxSubmitsPerMinute: 5 });
      const at = Date.now();
      const submit = (store: SqlStore, id: string, ms: number) => store.createJobs([{ ...job(id, 'acme'), submittedAt: new Date(ms) }]);
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => submit(i % 2 ? first : second, `j${i}`, at)));
      const refused = results.filter((r) => r.status === 'rejected');
      expect(results.length - refused.length).toBe(5);
      for (const r of refused) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(QuotaExceededError);
        expect(String((r as PromiseRejectedResult).reason.message)).toMatch(
          /submitted 5 jobs in the last minute; its quota allows 5 per minute/,
        );
      }
      // Another organisation's window is its own; the first five still count 59.999 s later.
      await first.createJobs([job('d1', 'default'), job('d2', 'default')]);
      await expect(submit(first, 'k1', at + 59_999)).rejects.toThrow(/per minute/);
      // Once the window has passed them, five more fit; a batch is counted whole, so six are refused together.
      const later = Array.from({ length: 6 }, (_, i) => ({ ...job(`l${i}`, 'acme'), submittedAt: new Date(at + 60_000) }));
      await expect(first.createJobs(later)).rejects.toBeInstanceOf(QuotaExceededError);
      await first.createJobs(later.slice(0, 5));
      await expect(submit(second, 'l5', at + 60_001)).rejects.toBeInstanceOf(QuotaExceededError);
      expect((await first.listJobs({ org: 'acme', count: 'exact' })).total).toBe(10);
    });

    it("claims a task only for an ant of the job's organisation or a shared ant, decided in the claim's own statement", async () => {
      const store = await fresh();
      await store.security().createOrg({ id: 'acme', name: 'Acme' }, new Date());
      await store.createJobs([job('a1', 'acme'), job('d1', 'default'), job('a2', 'acme')]);
      for (const id of ['a1', 'd1', 'a2']) await makeReady(store, id);
      expect(Object.fromEntries((await store.readyTasks(Date.now(), 10)).map((t) => [t.jobId, t.org]))).toEqual({
        a1: 'acme',
        d1: 'default',
        a2: 'acme',
      });
      const at = new Date();
      const taken = await store.claimMany([
        { jobId: 'a1', taskType: 'a', antId: 'x@default', antOrg: 'default', at },
        { jobId: 'd1', taskType: 'a', antId: 'x@default', antOrg: 'default', at },
      ]);
      expect(taken.map((c) => c.jobId)).toEqual(['d1']);
      expect((await store.job('a1'))?.state).toBe('READY');
      expect((await store.tasks('a1'))[0]?.state).toBe('READY');
      expect(await store.attempts('a1')).toEqual([]);
      expect((await store.claim({ jobId: 'a1', taskType: 'a', antId: 'x@acme', antOrg: 'acme', at }))?.attempt).toBe(1);
      expect((await store.claim({ jobId: 'a2', taskType: 'a', antId: 'shared', at }))?.attempt).toBe(1);
    });

    it('keeps every claim within its ant’s organisation while queens race to claim the same tasks for different ants', async () => {
      const first = await fresh();
      const second = (await openSecond(opened[0] as Opened)).store;
      for (const org of ['acme', 'beta']) await first.security().createOrg({ id: org, name: org }, new Date());
      const orgs = ['acme', 'beta', 'default'];
      const ids = Array.from({ length: 30 }, (_, i) => `j${i}`);
      await first.createJobs(ids.map((id, i) => job(id, orgs[i % 3] as string)));
      for (const id of ids) await makeReady(first, id);
      const ants = [{ antId: 'w@acme', antOrg: 'acme' }, { antId: 'w@beta', antOrg: 'beta' }, { antId: 'fleet' }];
      // Every queen asks for every task for every ant at once, in different orders, so that the
      // same task is wanted by ants of every organisation in overlapping transactions.
      await Promise.all(
        [first, second].flatMap((store, s) =>
          ants.map((ant, a) => {
            const order = (s + a) % 2 ? [...ids].reverse() : ids;
            return store.claimMany(order.map((jobId) => ({ jobId, taskType: 'a', at: new Date(), ...ant })));
          }),
        ),
      );
      // Whatever is left goes to the shared ant (a task skipped while another queen held its job).
      await first.claimMany(ids.map((jobId) => ({ jobId, taskType: 'a', antId: 'fleet', at: new Date() })));
      for (const [i, id] of ids.entries()) {
        const attempts = await second.attempts(id);
        expect(attempts.map((a) => a.attempt)).toEqual([1]);
        const antId = attempts[0]?.antId as string;
        expect(antId === 'fleet' || antId === `w@${orgs[i % 3]}`, `${id} of ${orgs[i % 3]} ran on ${antId}`).toBe(true);
      }
    });

    it('counts requests per key and window atomically across stores, and drops ended windows as new ones start', async () => {
      const first = await fresh();
      const second = (await openSecond(opened[0] as Opened)).store;
      const counts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).security().countRequest('token:t', 60_000, 120_000)),
      );
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await first.security().countRequest('org:o', 60_000, 120_000)).toBe(1);
      // The first count of the next window deletes the ended one: counting in it again starts afresh.
      expect(await second.security().countRequest('token:t', 120_000, 180_000)).toBe(1);
      expect(await first.security().countRequest('token:t', 60_000, 120_000)).toBe(1);
    });

    it('appends a gapless audit chain from several writers that verifies, and detects an edited row', async () => {
      const first = await fresh();
      const second = (await openSecond(opened[0] as Opened)).store;
      const writers = [first.security(), second.security()];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          writers[i % 2]!.appendAudit({
            at: new Date(1000 + i).toISOString(),
            org: i % 3 ? 'acme' : 'default',
            actor: `token:${i}`,
            action: 'job.submit',
            target: `job/${i}`,
            source: '127.0.0.1',
            outcome: 'ok',
            detail: { status: 201 },
          }),
        ),
      );
      const rows = await first.security().audit();
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(verifyChain(rows)).toMatchObject({ ok: true, count: 20 });
      expect((await first.security().audit({ org: 'default' })).every((r) => r.org === 'default')).toBe(true);
      const edited = rows.map((r) => (r.seq === 7 ? { ...r, outcome: 'denied' as const } : r));
      expect(verifyChain(edited)).toMatchObject({ ok: false, seq: 7 });
    });

    it('keeps sealed secrets per organisation and reseals only an unchanged value', async () => {
      const sec = (await fresh()).security();
      await sec.putSecret({ orgId: 'default', name: 'DB', sealed: 'v1.a', updatedAt: new Date(1) });
      await sec.putSecret({ orgId: 'default', name: 'DB', sealed: 'v1.b', updatedAt: new Date(2) });
      expect((await sec.secret('default', 'DB'))?.sealed).toBe('v1.b');
      expect(await sec.resealSecret('default', 'DB', 'v1.a', 'v1.c')).toBe(false);
      expect(await sec.resealSecret('default', 'DB', 'v1.b', 'v1.c')).toBe(true);
      expect((await sec.secrets('default')).map((s) => s.name)).toEqual(['DB']);
      expect(await sec.deleteSecret('default', 'DB')).toBe(true);
      expect(await sec.setting('pepper', () => 'one')).toBe('one');
      expect(await sec.setting('pepper', () => 'two')).toBe('one');
    });
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

securityContract(
  'SQLite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-sec-'));
    dirs.push(dir);
    const store = SqliteStore.open({ path: join(dir, 'db.sqlite') });
    await store.opened();
    return { store, dispose: () => store.close() };
  },
  async (first) => {
    const store = SqliteStore.open({ path: first.store.description.slice('sqlite:'.length) });
    await store.opened();
    return { store, dispose: () => store.close() };
  },
);

if (gate.availability.available) {
  const urls = new WeakMap<SqlStore, string>();
  securityContract(
    'PostgreSQL',
    async () => {
      const db = await gate.freshDatabase();
      const store = PostgresStore.open({ url: db.url, poolSize: 4 });
      await store.opened();
      urls.set(store, db.url);
      return {
        store,
        dispose: async () => {
          await store.close();
          await db.dispose();
        },
      };
    },
    async (first) => {
      const store = PostgresStore.open({ url: urls.get(first.store) as string, poolSize: 4 });
      await store.opened();
      return { store, dispose: () => store.close() };
    },
  );
} else gate.describe('SecurityStore on PostgreSQL', () => it.skip('needs PostgreSQL'));

describe('migration 0010-tenancy', () => {
  it("keeps the default organisation's existing ant tokens shared and binds every other organisation's to it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-sec-0010-'));
    dirs.push(dir);
    const path = join(dir, 'db.sqlite');
    const raw = new BetterSqlite3(path);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations('sqlite') },
      migrationTableName: 'myrmex_migration',
      migrationLockTableName: 'myrmex_migration_lock',
    });
    expect((await migrator.migrateTo('0009-job-list')).error).toBeUndefined();
    raw.exec(`INSERT INTO orgs (id, name, created_at) VALUES ('acme', 'Acme', 0)`);
    const insert = raw.prepare('INSERT INTO tokens (id, hash, org_id, name, scopes, created_at) VALUES (?, ?, ?, ?, ?, 0)');
    insert.run('platform-ant', 'h', 'default', 'fleet', '["ant"]');
    insert.run('acme-ant', 'h', 'acme', 'builder', '["read","ant"]');
    insert.run('reader', 'h', 'default', 'reader', '["read"]');
    await db.destroy();
    const store = SqliteStore.open({ path });
    await store.opened();
    try {
      const sec = store.security();
      expect((await sec.token('platform-ant'))?.antShared).toBe(true);
      expect((await sec.token('acme-ant'))?.antShared).toBeUndefined();
      expect((await sec.token('reader'))?.antShared).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
