import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../src/artifacts/index.js';
import {
  createApi,
  Keyring,
  MASK,
  openAuth,
  Queen,
  type QueenOptions,
  resealSecrets,
  SqliteStore,
  secretContext,
  secretForms,
  storeSecretSource,
} from '../../src/index.js';
import { req } from './harness.js';

const SECRET = 'pa55/Word+with spaces&=?';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openWithSecrets(keyring: Keyring, options: Pick<QueenOptions, 'prepareSpec'> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-secrets-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = SqliteStore.open({ path: join(dir, 'q.db') });
  await store.opened();
  const security = store.security();
  const queen = await Queen.open({
    store,
    // Beside the database: without it a queen given a store keeps blobs in ./.myrmex of the working directory, shared by every run.
    blobs: new LocalBlobStore(join(dir, 'artifacts')),
    secrets: storeSecretSource(security, keyring),
    ant: { capacity: 2 },
    pollIntervalMs: 20,
    ...options,
  });
  await queen.start();
  cleanups.push(() => queen.stop());
  const auth = await openAuth(security, { env: {} });
  const app = await createApi(queen, { auth: { ...auth, keyring } });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  return { url, admin: auth.bootstrapToken as string, security, store };
}

async function waitForEnd(api: { url: string }, token: string, id: string) {
  for (;;) {
    const job = await req(api, 'GET', `/api/jobs/requests/${id}`, token);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.body.state)) return job.body;
    const events = await fetch(`${api.url}/api/jobs/requests/${id}/events?follow=true`, { headers: { authorization: `Bearer ${token}` } });
    await events.text();
  }
}

const PRINTS = [
  'echo "raw {{.Secrets.API_KEY}}"',
  "printf '%s' '{{.Secrets.API_KEY}}' | base64",
  "printf 'some prefix-%s-and a suffix' '{{.Secrets.API_KEY}}' | base64 -w0; echo",
  "printf '%s' '{{.Secrets.API_KEY}}' | od -An -tx1 | tr -d ' \\n'; echo",
  `node -e 'console.log(encodeURIComponent(process.argv[1]))' '{{.Secrets.API_KEY}}'`,
  `node -e 'console.log(JSON.stringify({ key: process.argv[1] }))' '{{.Secrets.API_KEY}}'`,
  'echo "param {{.probe}}"',
];

describe('secrets in definitions', () => {
  it('are given to the task at run time and masked in every form a script prints them', async () => {
    const keyring = new Keyring([['k1', Keyring.generateKey()]]);
    const api = await openWithSecrets(keyring);
    expect((await req(api, 'PUT', '/api/secrets/API_KEY', api.admin, { value: SECRET })).status).toBe(204);
    const listed = await req(api, 'GET', '/api/secrets', api.admin);
    expect(listed.body.items.map((i: { name: string }) => i.name)).toEqual(['API_KEY']);
    expect(listed.text).not.toContain(SECRET);
    const definition = `job_type: leaky\ntasks:\n  - task_type: print\n    method: SHELL\n    script:\n${PRINTS.map((line) => `      - ${JSON.stringify(line)}`).join('\n')}\n`;
    expect((await req(api, 'POST', '/api/jobs/definitions', api.admin, definition)).status).toBe(201);
    // A param that looks like a secret reference is data: it is printed as written, never expanded.
    const job = await req(api, 'POST', '/api/jobs/requests', api.admin, { job_type: 'leaky', params: { probe: '{{.Secrets.API_KEY}}' } });
    expect(job.status).toBe(201);
    const ended = await waitForEnd(api, api.admin, job.body.id);
    const logs = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/logs`, api.admin);
    const text = logs.body.items.map((l: { text: string }) => l.text).join('\n');
    expect(ended.state, text).toBe('COMPLETED');
    for (const form of secretForms(SECRET)) expect(text).not.toContain(form);
    expect(text).toContain(`raw ${MASK}`);
    expect(text.split(MASK).length - 1).toBeGreaterThanOrEqual(6);
    expect(text).toContain('param {{.Secrets.API_KEY}}');
    const detail = await req(api, 'GET', `/api/jobs/requests/${job.body.id}`, api.admin);
    expect(detail.text).not.toContain(SECRET);
    const reads = (await api.security.audit()).filter((r) => r.action === 'secret.read');
    expect(reads).toMatchObject([{ org: 'default', target: 'secret/API_KEY', outcome: 'ok', actor: `task:${job.body.id}/print/1` }]);
  });

  it('of a job type are filed under the name its organisation gives it: two organisations each have their own "deploy"', async () => {
    const api = await openWithSecrets(new Keyring([['k1', Keyring.generateKey()]]));
    const beta = (await req(api, 'POST', '/api/orgs', api.admin, { id: 'beta', name: 'Beta' })).body.token as string;
    const definition = `job_type: deploy\ntasks:\n  - task_type: t\n    method: SHELL\n    script:\n      - "printf '%s' '{{.Secrets.TOKEN}}' | sha256sum"\n`;
    const sha = (value: string) => createHash('sha256').update(value).digest('hex');
    const values = { [api.admin]: 'default-deploy-value', [beta]: 'beta-deploy-value' };
    for (const [token, value] of Object.entries(values)) {
      expect((await req(api, 'POST', '/api/jobs/definitions', token, definition)).status).toBe(201);
      expect((await req(api, 'PUT', '/api/jobs/definitions/deploy/secrets/TOKEN', token, { value })).status).toBe(204);
    }
    for (const [token, value] of Object.entries(values)) {
      const job = await req(api, 'POST', '/api/jobs/requests', token, { job_type: 'deploy' });
      expect((await waitForEnd(api, token, job.body.id)).state).toBe('COMPLETED');
      const logs = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/logs`, token);
      expect(logs.text).toContain(sha(value));
    }
    const reads = (await api.security.audit()).filter((r) => r.action === 'secret.read');
    expect(reads.map((r) => [r.org, r.target, r.outcome])).toEqual([
      ['default', 'job/deploy/secret/TOKEN', 'ok'],
      ['beta', 'job/deploy/secret/TOKEN', 'ok'],
    ]);
  });

  it("of a job type override the organisation's for that type only; every read is audited with its scope; values never leave", async () => {
    const k1 = Keyring.generateKey();
    const api = await openWithSecrets(new Keyring([['k1', k1]]));
    const ORG_VALUE = 'org-wide-value-1234';
    const JOB_VALUE = 'deploy-only-value-5678';
    const sha = (value: string) => createHash('sha256').update(value).digest('hex');
    expect((await req(api, 'PUT', '/api/secrets/TOKEN', api.admin, { value: ORG_VALUE })).status).toBe(204);
    for (const type of ['deploy', 'other']) {
      const definition = `job_type: ${type}\ntasks:\n  - task_type: t\n    method: SHELL\n    script:\n      - "echo raw {{.Secrets.TOKEN}}"\n      - "printf '%s' '{{.Secrets.TOKEN}}' | sha256sum"\n`;
      expect((await req(api, 'POST', '/api/jobs/definitions', api.admin, definition)).status).toBe(201);
    }
    expect((await req(api, 'PUT', '/api/jobs/definitions/deploy/secrets/TOKEN', api.admin, { value: JOB_VALUE })).status).toBe(204);
    expect((await req(api, 'PUT', '/api/jobs/definitions/nothing/secrets/TOKEN', api.admin, { value: JOB_VALUE })).status).toBe(404);
    const listed = await req(api, 'GET', '/api/jobs/definitions/deploy/secrets', api.admin);
    expect(listed.body.items.map((i: { name: string }) => i.name)).toEqual(['TOKEN']);
    expect(listed.text).not.toContain(JOB_VALUE);
    expect((await req(api, 'GET', '/api/jobs/definitions/other/secrets', api.admin)).body.items).toEqual([]);
    const run = async (type: string) => {
      const job = await req(api, 'POST', '/api/jobs/requests', api.admin, { job_type: type });
      expect((await waitForEnd(api, api.admin, job.body.id)).state).toBe('COMPLETED');
      const logs = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/logs`, api.admin);
      return { id: job.body.id as string, text: logs.body.items.map((l: { text: string }) => l.text).join('\n') };
    };
    const deploy = await run('deploy');
    expect(deploy.text).toContain(sha(JOB_VALUE));
    expect(deploy.text).toContain(`raw ${MASK}`);
    expect(deploy.text).not.toContain(JOB_VALUE);
    const other = await run('other');
    expect(other.text).toContain(sha(ORG_VALUE));
    const reads = (await api.security.audit()).filter((r) => r.action === 'secret.read');
    expect(reads).toMatchObject([
      { target: 'job/deploy/secret/TOKEN', outcome: 'ok', detail: { scope: 'job' }, actor: `task:${deploy.id}/t/1` },
      { target: 'secret/TOKEN', outcome: 'ok', detail: { scope: 'org' }, actor: `task:${other.id}/t/1` },
    ]);
    // A rotation re-seals job secrets too.
    expect(
      await resealSecrets(
        api.security,
        new Keyring([
          ['k2', Keyring.generateKey()],
          ['k1', k1],
        ]),
      ),
    ).toBe(2);
    expect((await req(api, 'DELETE', '/api/jobs/definitions/deploy/secrets/TOKEN', api.admin)).status).toBe(204);
    expect((await req(api, 'DELETE', '/api/jobs/definitions/deploy/secrets/TOKEN', api.admin)).status).toBe(404);
  });

  it('are masked in the text artifacts a task leaves; a binary artifact holding one is withheld, saying so in the log', async () => {
    const api = await openWithSecrets(new Keyring([['k1', Keyring.generateKey()]]));
    await req(api, 'PUT', '/api/secrets/API_KEY', api.admin, { value: SECRET });
    const script = [
      "printf 'key=%s\\n' '{{.Secrets.API_KEY}}' > report.txt",
      "printf '%s' '{{.Secrets.API_KEY}}' | base64 >> report.txt",
      "printf 'clean\\n' > clean.txt",
      "printf 'bin\\000%s' '{{.Secrets.API_KEY}}' > blob.bin",
    ];
    const definition = `job_type: writes\ntasks:\n  - task_type: w\n    method: SHELL\n    script:\n${script.map((l) => `      - ${JSON.stringify(l)}`).join('\n')}\n    artifacts: { paths: [report.txt, clean.txt, blob.bin] }\n`;
    expect((await req(api, 'POST', '/api/jobs/definitions', api.admin, definition)).status).toBe(201);
    const job = await req(api, 'POST', '/api/jobs/requests', api.admin, { job_type: 'writes' });
    expect((await waitForEnd(api, api.admin, job.body.id)).state).toBe('COMPLETED');
    const listed = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/artifacts`, api.admin);
    const content = async (path: string) => {
      const digest = listed.body.items.find((a: { path: string }) => a.path === path).digest;
      const answer = await fetch(`${api.url}/api/jobs/requests/${job.body.id}/artifacts/${digest}`, {
        headers: { authorization: `Bearer ${api.admin}` },
      });
      return Buffer.from(await answer.arrayBuffer());
    };
    const report = (await content('report.txt')).toString('utf8');
    expect(report).toBe(`key=${MASK}\n${MASK}\n`);
    expect((await content('clean.txt')).toString('utf8')).toBe('clean\n');
    // A binary file (here a NUL byte) is never rewritten: holding the secret, it is not stored at all.
    expect(listed.body.items.map((a: { path: string }) => a.path).sort()).toEqual(['clean.txt', 'report.txt']);
    const logs = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/logs`, api.admin);
    expect(logs.body.items.map((l: { text: string }) => l.text)).toContain(
      'artifact blob.bin was not stored: it holds the bytes of a secret (binary artifacts are withheld, never rewritten)',
    );
  });

  it('are masked in the error that fails a task before it runs, in its log line and its timeline', async () => {
    const api = await openWithSecrets(new Keyring([['k1', Keyring.generateKey()]]), {
      prepareSpec: (_attempt, spec) => {
        throw new Error(`cannot prepare ${JSON.stringify(spec)}`);
      },
    });
    await req(api, 'PUT', '/api/secrets/API_KEY', api.admin, { value: SECRET });
    const definition = 'job_type: early\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["echo {{.Secrets.API_KEY}}"]\n';
    await req(api, 'POST', '/api/jobs/definitions', api.admin, definition);
    const job = await req(api, 'POST', '/api/jobs/requests', api.admin, { job_type: 'early' });
    expect((await waitForEnd(api, api.admin, job.body.id)).state).toBe('FAILED');
    const logs = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/logs`, api.admin);
    expect(logs.text).toContain('cannot prepare');
    expect(logs.text).toContain(MASK);
    const timeline = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/timeline`, api.admin);
    const detail = await req(api, 'GET', `/api/jobs/requests/${job.body.id}`, api.admin);
    for (const answer of [logs, timeline, detail]) {
      for (const form of secretForms(SECRET)) expect(answer.text).not.toContain(JSON.stringify(form).slice(1, -1));
    }
  });

  it('fail the task, naming the secret, when it is not defined', async () => {
    const api = await openWithSecrets(new Keyring([['k1', Keyring.generateKey()]]));
    const definition = 'job_type: missing\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["echo {{.Secrets.NOPE}}"]\n';
    await req(api, 'POST', '/api/jobs/definitions', api.admin, definition);
    const job = await req(api, 'POST', '/api/jobs/requests', api.admin, { job_type: 'missing' });
    expect((await waitForEnd(api, api.admin, job.body.id)).state).toBe('FAILED');
    const logs = await req(api, 'GET', `/api/jobs/requests/${job.body.id}/logs`, api.admin);
    expect(logs.text).toMatch(/secret 'NOPE' is not defined/);
  });

  it('are re-sealed under a new primary key after a rotation; the old key is then no longer needed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-rotate-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = SqliteStore.open({ path: join(dir, 'q.db') });
    cleanups.push(() => store.close());
    const security = store.security();
    const [oldKey, newKey] = [Keyring.generateKey(), Keyring.generateKey()];
    const old = new Keyring([['old', oldKey]]);
    for (const name of ['A', 'B']) {
      await security.putSecret({
        orgId: 'default',
        name,
        sealed: old.encrypt(`value-${name}`, secretContext('default', name)),
        updatedAt: new Date(),
      });
    }
    const rotated = new Keyring([
      ['new', newKey],
      ['old', oldKey],
    ]);
    expect(await resealSecrets(security, rotated)).toBe(2);
    expect(await resealSecrets(security, rotated)).toBe(0);
    const onlyNew = new Keyring([['new', newKey]]);
    for (const row of await security.secrets()) {
      expect(onlyNew.keyIdOf(row.sealed)).toBe('new');
      expect(onlyNew.decrypt(row.sealed, secretContext(row.orgId, row.name))).toBe(`value-${row.name}`);
    }
  });
});
