import { postgres } from '@myrmex/test-utils';
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore, SqliteStore, type SqlStore } from '../../src/index.js';
import { until } from '../queen/helpers.js';
import { openSecured, req, type SecuredApi } from './harness.js';

/**
 * Per-organisation job type namespaces (issue 17), through the real API over loopback on a real
 * SQLite file and a real PostgreSQL database: every organisation names its own `build`.
 */

const gate = await postgres();

/** A job type `name` whose only task, `task`, tells the organisations' definitions apart. */
const TYPE = (name: string, task: string, more = '') =>
  `job_type: ${name}\n${more}tasks:\n  - task_type: ${task}\n    method: SHELL\n    script: ["true"]\n`;

const FAR = new Date(Date.now() + 86_400_000).toISOString();

interface Opened {
  readonly api: SecuredApi;
  readonly close: () => Promise<void>;
}

const opened: Opened[] = [];
afterEach(async () => {
  for (const one of opened.splice(0)) await one.close();
});

/** The bootstrap admin's token (organisation `default`) and the admin tokens of `beta` and `gamma`. */
async function threeOrgs(api: SecuredApi) {
  const admin = api.auth.bootstrapToken as string;
  const org = async (id: string) => {
    const made = await req(api, 'POST', '/api/orgs', admin, { id, name: id });
    expect(made.status, made.text).toBe(201);
    return made.body.token as string;
  };
  return { default: admin, beta: await org('beta'), gamma: await org('gamma') };
}

function suite(name: string, open: () => Promise<Opened>, reopen: (api: SecuredApi) => Promise<SqlStore>): void {
  const start = async (): Promise<SecuredApi> => {
    const one = await open();
    opened.push(one);
    return one.api;
  };

  describe(`per-organisation job type namespaces on ${name}`, () => {
    it('three organisations each apply, submit, list, run, cancel and read their own "build"; the default one keeps its plain name', async () => {
      const api = await start();
      const tokens = await threeOrgs(api);
      const task = { default: 'default-step', beta: 'beta-step', gamma: 'gamma-step' } as const;
      const orgs = ['default', 'beta', 'gamma'] as const;
      // Everything an organisation other than the default is answered: none of it may show an internal name.
      const seen: string[] = [];
      const ask = async (org: (typeof orgs)[number], method: string, path: string, body?: unknown) => {
        const answer = await req(api, method, path, tokens[org], body);
        if (org !== 'default') seen.push(answer.text);
        return answer;
      };

      for (const org of orgs) {
        const applied = await ask(org, 'POST', '/api/jobs/definitions', TYPE('build', task[org], `description: ${org}'s build\n`));
        expect(applied.status, applied.text).toBe(201);
        expect(applied.body).toEqual({ job_type: 'build', version: 1, created: true });
      }
      // The same text again is unchanged in its own namespace, whatever the others applied.
      const again = await ask('beta', 'POST', '/api/jobs/definitions', TYPE('build', task.beta, "description: beta's build\n"));
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ job_type: 'build', version: 1, created: false });

      const ids: Record<string, string> = {};
      for (const org of orgs) {
        const list = await ask(org, 'GET', '/api/jobs/definitions');
        expect(list.body.items.map((d: { job_type: string; tasks: string[] }) => [d.job_type, d.tasks])).toEqual([['build', [task[org]]]]);
        const detail = await ask(org, 'GET', '/api/jobs/definitions/build');
        expect(detail.status).toBe(200);
        expect(detail.body).toMatchObject({ job_type: 'build', latest: { job_type: 'build', tasks: [task[org]] } });
        expect(detail.body.latest.source).toContain(task[org]);
        const graph = await ask(org, 'GET', '/api/jobs/definitions/build/versions/1/graph');
        expect(graph.body.nodes.map((n: { task_type: string }) => n.task_type)).toEqual([task[org]]);

        const submitted = await ask(org, 'POST', '/api/jobs/requests', { job_type: 'build', scheduled_at: FAR });
        expect(submitted.status, submitted.text).toBe(201);
        expect(submitted.body.job_type).toBe('build');
        ids[org] = submitted.body.id;
      }
      for (const org of orgs) {
        const mine = await ask(org, 'GET', '/api/jobs/requests?job_type=build');
        expect(mine.body.items.map((j: { id: string; job_type: string }) => [j.id, j.job_type])).toEqual([[ids[org], 'build']]);
        const job = await ask(org, 'GET', `/api/jobs/requests/${ids[org]}`);
        expect(job.body.job_type).toBe('build');
        expect(job.body.tasks.map((t: { task_type: string }) => t.task_type)).toEqual([task[org]]);
        // Another organisation's job of the same type name is not found.
        const other = orgs[(orgs.indexOf(org) + 1) % orgs.length]!;
        expect((await ask(org, 'GET', `/api/jobs/requests/${ids[other]}`)).status).toBe(404);
        expect((await ask(org, 'POST', `/api/jobs/requests/${ids[other]}/cancel`, {})).status).toBe(404);
      }
      for (const org of orgs) {
        const cancelled = await ask(org, 'POST', `/api/jobs/requests/${ids[org]}/cancel`, {});
        expect(cancelled.status, cancelled.text).toBe(200);
        expect(cancelled.body).toMatchObject({ id: ids[org], job_type: 'build', state: 'CANCELLED' });
      }
      // Each organisation's job runs its own definition.
      for (const org of orgs) {
        const id = (await ask(org, 'POST', '/api/jobs/requests', { job_type: 'build' })).body.id as string;
        const done = await until(async () => {
          const job = await ask(org, 'GET', `/api/jobs/requests/${id}`);
          return job.body.state === 'COMPLETED' ? job.body : undefined;
        });
        expect(done.tasks.map((t: { task_type: string; state: string }) => [t.task_type, t.state])).toEqual([[task[org], 'COMPLETED']]);
      }
      // Disabling is per organisation too.
      expect((await ask('gamma', 'DELETE', '/api/jobs/definitions/build')).status).toBe(204);
      expect((await ask('gamma', 'POST', '/api/jobs/requests', { job_type: 'build' })).status).toBe(409);
      expect((await ask('beta', 'POST', '/api/jobs/requests', { job_type: 'build', scheduled_at: FAR })).status).toBe(201);

      for (const text of seen) expect(text).not.toMatch(/(beta|gamma)\/build/);
      // Inside, the default organisation's type keeps its name and the others' are qualified.
      expect((await api.queen.listDefinitions()).map((d) => d.jobType)).toEqual(['beta/build', 'build', 'gamma/build']);
      expect(await api.store.security().definitionOrg('build')).toBe('default');
      expect(await api.store.security().definitionOrg('beta/build')).toBe('beta');
    });

    it('forks, job triggers and webhooks name job types of their own organisation', async () => {
      const api = await start();
      const tokens = await threeOrgs(api);
      const apply = async (token: string, text: string) => {
        const applied = await req(api, 'POST', '/api/jobs/definitions', token, text);
        expect(applied.status, applied.text).toBe(201);
      };
      const parent = `job_type: parent
tasks:
- task_type: fork
  method: FORK_JOB
  fork_job_type: child
  on_completed: wait
- task_type: wait
  method: AWAIT_FORKED_JOB
  await_forked_tasks: [fork]
`;
      const after = (task: string) => TYPE('after', task, 'triggers:\n- type: job\n  name: after-parent\n  job_type: parent\n');
      for (const org of ['beta', 'gamma'] as const) {
        await apply(tokens[org], TYPE('child', `${org}-child`));
        await apply(tokens[org], after(`${org}-after`));
      }
      await apply(tokens.beta, parent);
      // The default organisation has the same names: its trigger must not follow beta's parent.
      await apply(tokens.default, TYPE('child', 'default-child'));
      await apply(tokens.default, after('default-after'));

      const id = (await req(api, 'POST', '/api/jobs/requests', tokens.beta, { job_type: 'parent' })).body.id as string;
      const jobs = await until(async () => {
        const list = await req(api, 'GET', '/api/jobs/requests', tokens.beta);
        const items = list.body.items as { id: string; job_type: string; state: string }[];
        return items.length === 3 && items.every((j) => j.state === 'COMPLETED') ? items : undefined;
      });
      expect(jobs.map((j) => j.job_type).sort()).toEqual(['after', 'child', 'parent']);
      for (const job of jobs.filter((j) => j.id !== id)) {
        const detail = await req(api, 'GET', `/api/jobs/requests/${job.id}`, tokens.beta);
        expect(detail.body.tasks.map((t: { task_type: string }) => t.task_type)).toEqual([`beta-${job.job_type}`]);
      }
      const logs = await req(api, 'GET', `/api/jobs/requests/${id}/logs`, tokens.beta);
      expect(logs.text).toContain('trigger after/after-parent started job');
      expect(logs.text).not.toContain('beta/');
      // Nothing was forked or triggered in another organisation.
      for (const org of ['default', 'gamma'] as const) {
        expect((await req(api, 'GET', '/api/jobs/requests?count=exact', tokens[org])).body.total).toBe(0);
      }

      // A webhook is public, so its URL names the organisation of a type outside the default one: <org>/<name>.
      const hooked = (task: string) => TYPE('hooked', task, 'triggers:\n- type: webhook\n  name: on-push\n');
      await apply(tokens.default, hooked('default-hooked'));
      await apply(tokens.beta, hooked('beta-hooked'));
      for (const [org, target] of [
        ['default', 'hooked'],
        ['beta', encodeURIComponent('beta/hooked')],
      ] as const) {
        const delivered = await req(api, 'POST', `/api/webhooks/${target}/on-push`, undefined, {});
        expect(delivered.status, delivered.text).toBe(202);
        expect(delivered.body.job_type).toBe('hooked');
        const job = await req(api, 'GET', `/api/jobs/requests/${delivered.body.job_id}`, tokens[org]);
        expect(job.body.tasks.map((t: { task_type: string }) => t.task_type)).toEqual([`${org}-hooked`]);
      }
    });

    it('migration 0023 moves the job types of other organisations into their namespaces, and the default one keeps its own', async () => {
      const api = await start();
      await threeOrgs(api);
      const store = api.store;
      // Rows as an older queen wrote them: one global namespace, beta owning 'legacy' outright.
      const at = Date.now();
      const definition = JSON.stringify({ jobType: 'legacy', tasks: [{ taskType: 'a' }] });
      // The store's own connection (protected: only this test writes around the store's methods).
      const db = (store as unknown as { db: Kysely<unknown> }).db;
      await sql`INSERT INTO definition_types (job_type, org) VALUES ('legacy', 'beta'), ('plain', 'default')`.execute(db);
      for (const type of ['legacy', 'plain']) {
        await sql`INSERT INTO definitions (job_type, version, definition, source, created_at)
                  VALUES (${type}, 1, ${definition.replace('legacy', type)}, ${`job_type: ${type}`}, ${at})`.execute(db);
      }
      await sql`DELETE FROM myrmex_migration WHERE name = '0023-job-type-namespaces'`.execute(db);
      const again = await reopen(api);
      try {
        const types = await again.latestDefinitions();
        const legacy = types.find((d) => d.jobType === 'beta/legacy');
        expect(legacy?.definition.jobType).toBe('beta/legacy');
        expect(types.find((d) => d.jobType === 'plain')?.definition.jobType).toBe('plain');
        expect(types.some((d) => d.jobType === 'legacy')).toBe(false);
        expect(await again.security().definitionOrg('beta/legacy')).toBe('beta');
      } finally {
        await again.close();
      }
    });
  });
}

suite(
  'SQLite',
  async () => {
    const api = await openSecured();
    return { api, close: () => api.close() };
  },
  async (api) => {
    const store = SqliteStore.open({ path: api.store.description.slice('sqlite:'.length) });
    await store.opened();
    return store;
  },
);

if (gate.availability.available) {
  const urls = new WeakMap<SecuredApi, string>();
  suite(
    'PostgreSQL',
    async () => {
      const db = await gate.freshDatabase();
      const api = await openSecured({ db: db.url });
      urls.set(api, db.url);
      return {
        api,
        close: async () => {
          await api.close();
          await db.dispose();
        },
      };
    },
    async (api) => {
      const store = PostgresStore.open({ url: urls.get(api) as string });
      await store.opened();
      return store;
    },
  );
}
