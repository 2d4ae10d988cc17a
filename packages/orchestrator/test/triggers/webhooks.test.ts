import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createApi,
  Keyring,
  PostgresStore,
  Queen,
  type SecurityStore,
  SqliteStore,
  secretContext,
  storeSecretSource,
} from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { decideTrigger, findWebhook, signatureMatches, signBody } from '../../src/queen/triggers.js';
import { CORPUS_DIR } from '../formicary/corpus.js';
import { finished, until } from '../queen/helpers.js';

const corpus = (file: string) => readFileSync(join(CORPUS_DIR, file), 'utf8');
const SECRET = 'it is a secret to everybody';
const PUSH = { ref: 'refs/heads/main', head_commit: { id: 'abc123' }, repository: { full_name: 'acme/api' }, pusher: { name: 'ann' } };

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function putSecret(security: SecurityStore, keyring: Keyring, name: string, value: string): Promise<void> {
  await security.putSecret({
    orgId: 'default',
    name,
    sealed: keyring.encrypt(value, secretContext('default', name)),
    updatedAt: new Date(),
  });
}

/** A queen behind the API on loopback, its webhook secrets sealed in its own store (the organisation's secrets). */
async function serve(queen: Queen): Promise<string> {
  await queen.start();
  cleanups.push(() => queen.stop());
  const app: FastifyInstance = await createApi(queen, {});
  cleanups.push(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text }).then(
    async (response) => ({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }),
  );
}

const signed = (body: unknown, delivery: string, secret = SECRET) => ({
  'x-hub-signature-256': signBody(JSON.stringify(body), secret),
  'x-github-delivery': delivery,
});

describe('trigger templates and signatures', () => {
  it("renders Formicary's webhook trigger over a push: filter, params, dedup key; missing fields are Go's zero values", () => {
    const found = findWebhook(
      [
        {
          jobType: 'webhook-ci-trigger',
          version: 1,
          createdAt: new Date(),
          disabled: false,
          source: '',
          definition: {
            triggers: [
              {
                type: 'webhook',
                name: 'on-push',
                filter: '{{ if eq .Body.ref "refs/heads/main" }}true{{ end }}',
                params: {
                  branch: '{{ trimPrefix .Body.ref "refs/heads/" }}',
                  commit_sha: '{{ index .Body.head_commit "id" }}',
                  pusher: '{{ default "unknown" .Body.pusher.name }}',
                  author: '{{ default "nobody" .Body.author }}',
                },
                dedup_key: 'ci-{{ index .Body.head_commit "id" }}',
              },
            ],
          } as never,
        },
      ],
      'on-push',
    );
    if (typeof found === 'string') throw new Error(found);
    expect(decideTrigger(found.trigger, { Body: PUSH })).toEqual({
      fire: true,
      params: { branch: 'main', commit_sha: 'abc123', pusher: 'ann', author: 'nobody' },
      dedupKey: 'ci-abc123',
    });
    expect(decideTrigger(found.trigger, { Body: { ...PUSH, ref: 'refs/heads/dev' } }).fire).toBe(false);
    // .Body.pusher.name on a body without pusher: Go fails on the nil map too, and so does the delivery.
    expect(() => decideTrigger(found.trigger, { Body: { ref: 'refs/heads/main', head_commit: { id: 'x' } } })).toThrow(
      /trigger 'on-push' params.pusher: .*\.Body\.pusher\.name.* reads a value this event does not have/,
    );
  });

  it('checks sha256=<hex> in constant time against the raw bytes', () => {
    const body = Buffer.from('{"a": 1}');
    expect(signatureMatches(body, 'k', signBody(body, 'k'))).toBe(true);
    expect(signatureMatches(body, 'k', signBody(body, 'k').slice(7))).toBe(true);
    expect(signatureMatches(Buffer.from('{"a":1}'), 'k', signBody(body, 'k'))).toBe(false);
    expect(signatureMatches(body, 'other', signBody(body, 'k'))).toBe(false);
    expect(signatureMatches(body, 'k', 'sha256=zz')).toBe(false);
    expect(signatureMatches(body, 'k', undefined)).toBe(false);
  });
});

describe('webhook deliveries through the API', () => {
  it("Formicary's webhook-ci-trigger.yaml, unchanged: 401 without the signature, one job per commit (409 again), filtered branches, 429 past the rate limit", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-webhooks-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = SqliteStore.open({ path: join(dir, 'q.db') });
    await store.opened();
    const keyring = new Keyring([['k1', Keyring.generateKey()]]);
    await putSecret(store.security(), keyring, 'CIWebhookSecret', SECRET);
    const queen = await Queen.open({
      store,
      secrets: storeSecretSource(store.security(), keyring),
      ant: { capacity: 2 },
      pollIntervalMs: 20,
    });
    const url = await serve(queen);
    await queen.applyDefinition(corpus('docs-examples/webhook-ci-trigger.yaml'), 'webhook-ci-trigger.yaml');

    const unsigned = await post(url, '/api/webhooks/webhook-ci-trigger/on-push', PUSH);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toMatchObject({ type: 'urn:myrmex:problem:invalid-signature' });
    expect(String(unsigned.body.detail)).toMatch(/X-Hub-Signature-256 must be sha256=.*: the header is missing/);
    const forged = await post(url, '/api/webhooks/webhook-ci-trigger/on-push', PUSH, signed(PUSH, 'd0', 'guess'));
    expect(forged.status).toBe(401);
    expect(String(forged.body.detail)).toMatch(/it does not match/);

    const accepted = await post(url, '/api/webhooks/webhook-ci-trigger/on-push', PUSH, signed(PUSH, 'd1'));
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ job_type: 'webhook-ci-trigger', trigger: 'on-push', delivery_id: 'ci-abc123' });
    const job = await finished(queen, String(accepted.body.job_id));
    expect(job.state).toBe('COMPLETED');
    expect(job.params).toEqual({ branch: 'main', commit_sha: 'abc123', repo: 'acme/api', pusher: 'ann' });
    expect((await queen.logs(job.id, { taskType: 'notify' })).map((l) => l.text)).toContain(
      'CI complete for acme/api commit=abc123 branch=main',
    );

    // Its dedup_key names the commit: a second delivery of the same push (another delivery id) starts nothing.
    const replay = await post(url, '/api/webhooks/webhook-ci-trigger/on-push', PUSH, signed(PUSH, 'd2'));
    expect(replay.status).toBe(409);
    expect(replay.body).toMatchObject({ type: 'urn:myrmex:problem:duplicate-delivery' });
    expect(String(replay.body.detail)).toContain(job.id);

    const dev = { ...PUSH, ref: 'refs/heads/dev', head_commit: { id: 'def456' } };
    expect((await post(url, '/api/webhooks/webhook-ci-trigger/on-push', dev, signed(dev, 'd3'))).body).toMatchObject({ filtered: true });

    // on-push-dev: no auth, reached by its name alone; at most 10 a minute.
    const statuses: number[] = [];
    for (let n = 0; n < 11; n++) {
      const body = { ref: 'refs/heads/x', head_commit: { id: `c${n}` } };
      const reply = await post(url, '/api/webhooks/on-push-dev', body, { 'x-github-delivery': `dev-${n}` });
      statuses.push(reply.status);
      if (reply.status === 429) {
        expect(reply.body).toMatchObject({ type: 'urn:myrmex:problem:rate-limited' });
        expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    // Eleven in one fixed one-minute window, unless the window turned between them (then all pass).
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(10);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);

    const ambiguous = await post(url, '/api/webhooks/webhook-ci-trigger', PUSH);
    expect(ambiguous.status).toBe(404);
    expect(String(ambiguous.body.detail)).toMatch(/has 2 webhook triggers: POST to \/api\/webhooks\/webhook-ci-trigger\/<name>/);
    // A public route: the answer names no trigger the caller did not name.
    expect(String(ambiguous.body.detail)).not.toContain('on-push');
    // Formicary's own route reaches the same trigger.
    const other = { ...PUSH, head_commit: { id: 'f00' } };
    const formicary = await post(url, '/api/triggers/webhook-ci-trigger/on-push', other, signed(other, 'd4'));
    expect(formicary.status).toBe(202);
    for (const started of (await queen.listJobs({ limit: 100 })).items) await finished(queen, started.id, 30_000);
  }, 60_000);
});

const pg = await postgres();

pg.describe('webhooks on PostgreSQL', () => {
  it('the same delivery sent to two queens at once, many times over, starts one job; every other answer is 409', async () => {
    const db = await pg.freshDatabase();
    cleanups.push(() => db.dispose());
    const keyring = new Keyring([['k1', Keyring.generateKey()]]);
    const stores = [PostgresStore.open({ url: db.url }), PostgresStore.open({ url: db.url })];
    await stores[0]!.opened();
    await putSecret(stores[0]!.security(), keyring, 'WebhookSecret', SECRET);
    const urls: string[] = [];
    for (const [n, store] of stores.entries()) {
      const queen = await Queen.open({
        store,
        secrets: storeSecretSource(store.security(), keyring),
        ant: { capacity: n === 0 ? 2 : 0 },
        pollIntervalMs: 20,
      });
      urls.push(await serve(queen));
      if (n === 0) await queen.applyDefinition(corpus('fixtures/webhook_trigger_job.yaml'), 'webhook_trigger_job.yaml');
    }
    const body = { ref: 'refs/heads/main', head_commit: { id: 'race1' }, repository: { full_name: 'acme/race' } };
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, n) =>
        post(urls[n % 2]!, '/api/webhooks/webhook-triggered-pipeline/on-push', body, signed(body, `delivery-${n}`)),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([202, ...Array(15).fill(409)]);
    const jobId = String(replies.find((r) => r.status === 202)!.body.job_id);
    for (const reply of replies.filter((r) => r.status === 409)) expect(String(reply.body.detail)).toContain(jobId);
    const check = await Queen.open({ store: PostgresStore.open({ url: db.url }), ant: { capacity: 0 }, cron: false });
    cleanups.push(() => check.stop());
    const jobs = (await check.listJobs({ limit: 100 })).items;
    expect(jobs.map((j) => j.id)).toEqual([jobId]);
    expect(jobs[0]!.params).toEqual({ branch: 'main', commit_sha: 'race1', repo: 'acme/race' });
    expect(await until(async () => ((await check.getJob(jobId))?.state === 'COMPLETED' ? true : undefined), 30_000)).toBe(true);
  }, 60_000);
});
