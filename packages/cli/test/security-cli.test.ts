import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, serve } from '@myrmex/orchestrator';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLogLine } from '../src/commands/orchestrator/format.js';
import { main } from '../src/index.js';
import { printable } from '../src/terminal.js';
import { capture } from './support/capture.js';

let server: RunningServer;
let dir: string;
let db: string;
let admin: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myrmex-cli-sec-'));
  db = join(dir, 'q.db');
  server = await serve({ db, port: 0, auth: true, handleSignals: false, logger: pino({ level: 'silent' }) });
  admin = server.auth?.bootstrapToken as string;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], token = admin) {
  const { io, out, err } = capture();
  const code = await main([...args], io, { MYRMEX_SERVER: server.url, MYRMEX_TOKEN: token, MYRMEX_DB: db });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('myrmex token, org, quota and audit', () => {
  it('creates, lists and revokes tokens; the revoked token is refused', async () => {
    const created = await run(['token', 'create', '--name', 'ci', '--scope', 'read,submit', '--json']);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.out) as { id: string; token: string; scopes: string[] };
    expect(token.scopes).toEqual(['read', 'submit']);
    expect((await run(['jobs'], token.token)).code).toBe(0);
    expect((await run(['jobs'], 'myx_not_a_token')).code).toBe(1);
    const listed = await run(['token', 'list']);
    expect(listed.out).toContain(token.id);
    expect(listed.out).not.toContain(token.token);
    expect((await run(['token', 'revoke', token.id])).out).toBe(`revoked ${token.id}`);
    const refused = await run(['token', 'list'], token.token);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/revoked/);
    expect((await run(['token', 'create', '--name', 'x', '--scope', 'root'])).code).toBe(2);
  });

  it('creates an organisation with a quota that `myrmex quota` shows to its admin', async () => {
    const created = await run(['org', 'create', 'acme', '--name', 'Acme', '--max-jobs', '3', '--max-submits-per-minute', '20', '--json']);
    expect(created.code).toBe(0);
    const acme = JSON.parse(created.out) as { token: string };
    expect((await run(['quota'], acme.token)).out).toBe('acme: unfinished jobs 3, queued jobs unlimited, submissions per minute 20');
    expect((await run(['org', 'create', 'other', '--name', 'Other'], acme.token)).code).toBe(1);
    expect((await run(['org', 'create', 'x', '--name', 'X', '--max-submits-per-minute', 'lots'])).code).toBe(2);
  });

  it('sets running-jobs, CPU-hours and artifact quotas and shows them with their usage', async () => {
    const acme = JSON.parse((await run(['org', 'create', 'quota-co', '--name', 'Quota Co', '--json'])).out) as { token: string };
    expect((await run(['quota', 'set', 'running_jobs', '--hard', '10', '--soft', '8'], acme.token)).out).toBe(
      'org running_jobs: 0 used; hard 10, soft 8',
    );
    const cpu = await run(['quota', 'set', 'cpu_hours', '--hard', '2.5', '--period', 'monthly', '--json'], acme.token);
    expect(JSON.parse(cpu.out)).toMatchObject({ resource: 'cpu_hours', hard: 2.5, period: 'monthly', used: 0 });
    const shown = (await run(['quota', 'show'], acme.token)).out.split('\n');
    expect(shown[0]).toBe('quota-co: unfinished jobs unlimited, queued jobs unlimited, submissions per minute unlimited');
    expect(shown.slice(1)).toEqual([
      expect.stringMatching(/^org cpu_hours per month: 0 used; hard 2\.5, soft none \(resets \d{4}-\d\d-01T00:00:00\.000Z\)$/),
      'org running_jobs: 0 used; hard 10, soft 8',
    ]);
    const bad = await run(['quota', 'set', 'running_jobs', '--hard', '2', '--soft', '3'], acme.token);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/soft: must not be above hard \(2\)/);
    expect((await run(['quota', 'set', 'disk', '--hard', '1'], acme.token)).code).toBe(2);
    expect((await run(['quota', 'set', 'running_jobs', '--hard', 'many'], acme.token)).code).toBe(2);
  });

  it("creates ant tokens bound to the caller's organisation, and shared ones for a platform administrator only", async () => {
    const acme = JSON.parse((await run(['org', 'create', 'ants-co', '--name', 'Ants Co', '--json'])).out) as { token: string };
    const bound = await run(['token', 'create', '--name', 'builder', '--scope', 'ant'], acme.token);
    expect(bound.out).toMatch(/scopes ant; an ant of ants-co only; shown once/);
    const refused = await run(['token', 'create', '--name', 'fleet', '--scope', 'ant', '--shared'], acme.token);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/platform administrator/);
    const shared = await run(['token', 'create', '--name', 'fleet', '--scope', 'ant', '--shared', '--json']);
    expect(JSON.parse(shared.out)).toMatchObject({ scopes: ['ant'], shared: true });
  });

  it('adds members, changes roles and makes teams', async () => {
    expect((await run(['user', 'add', 'ops-1', '--role', 'operator', '--name', 'Ops'])).out).toBe('added ops-1 as operator');
    expect((await run(['user', 'role', 'ops-1', 'viewer'])).out).toBe('ops-1 is now viewer');
    expect((await run(['user', 'role', 'ops-1', 'king'])).code).toBe(2);
    expect((await run(['user', 'list'])).out).toContain('ops-1  Ops  viewer');
    expect((await run(['team', 'create', 'night shift', '--member', 'ops-1'])).out).toBe('created team night shift (1 members)');
    expect((await run(['team', 'list'])).out).toBe('night shift: ops-1');
  });

  it('recovers a platform admin token straight from the store, with an audit row', async () => {
    const recovered = await run(['token', 'recover'], '');
    expect(recovered.code, recovered.err).toBe(0);
    const token = /^(myx_\S+)/.exec(recovered.out)?.[1] as string;
    expect((await run(['org', 'create', 'recovered', '--name', 'R'], token)).code).toBe(0);
    expect((await run(['audit', 'verify'])).code).toBe(0);
  });

  it('verifies the audit chain from the database and reports the first edited row', async () => {
    const intact = await run(['audit', 'verify']);
    expect(intact.code, intact.err).toBe(0);
    expect(intact.out).toMatch(/^audit log intact: \d+ rows, head \d+:[0-9a-f]{64}$/);
    const head = /head (\d+:[0-9a-f]{64})/.exec(intact.out)?.[1] as string;
    expect((await run(['audit', 'verify', '--anchor', head])).code).toBe(0);
    const raw = new BetterSqlite3(db);
    raw.prepare("UPDATE audit SET outcome = 'ok' WHERE seq = 2").run();
    raw.prepare("UPDATE audit SET actor = 'someone else' WHERE seq = 2").run();
    raw.close();
    const broken = await run(['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/broken at row 2: .*edited/);
  });

  it('strips terminal escape sequences from names it prints', () => {
    expect(printable('build\u001b[2J\u001b]0;pwned\u0007 done')).toBe('build?[2J?]0;pwned? done');
    expect(printable('a\tb\r\u009bc')).toBe('a\tb??c');
    const line = formatLogLine({
      seq: 1,
      job_id: 'j',
      task_type: 't',
      attempt: 1,
      stream: 'stdout',
      at: '2026-12-04T00:00:00.000Z',
      text: '\u001b[31mred\u001b]8;;http://x\u0007',
    });
    expect(line.includes('\u001b') || line.includes('\u0007')).toBe(false);
    expect(line).toContain('?[31mred');
  });
});

describe('myrmex secret', () => {
  it("sets, lists and deletes the organisation's and a job type's secrets; values come from the environment and are never printed", async () => {
    const secretDir = mkdtempSync(join(tmpdir(), 'myrmex-cli-secret-'));
    const saved = process.env.MYRMEX_SECRET_KEYS;
    process.env.MYRMEX_SECRET_KEYS = `k1:${randomBytes(32).toString('base64')}`;
    const queen = await serve({
      db: join(secretDir, 'q.db'),
      port: 0,
      auth: true,
      handleSignals: false,
      logger: pino({ level: 'silent' }),
    });
    if (saved === undefined) delete process.env.MYRMEX_SECRET_KEYS;
    else process.env.MYRMEX_SECRET_KEYS = saved;
    try {
      const token = queen.auth?.bootstrapToken as string;
      const env = { MYRMEX_SERVER: queen.url, MYRMEX_TOKEN: token, DEPLOY_KEY: 'value-from-the-environment' };
      const cli = async (args: string[]) => {
        const { io, out, err } = capture();
        const code = await main(args, io, env);
        return { code, out: out.join('\n'), err: err.join('\n') };
      };
      const definition = await fetch(`${queen.url}/api/jobs/definitions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
        body: 'job_type: deploy\ntasks:\n  - task_type: t\n    script: ["true"]\n',
      });
      expect(definition.status).toBe(201);
      expect((await cli(['secret', 'set', 'KEY', '--from-env', 'DEPLOY_KEY'])).out).toBe('stored secret KEY of the organisation');
      expect((await cli(['secret', 'set', 'KEY', '--from-env', 'DEPLOY_KEY', '--job-type', 'deploy'])).out).toBe(
        'stored secret KEY of job type deploy',
      );
      const listed = await cli(['secret', 'list', '--job-type', 'deploy']);
      expect(listed.out).toMatch(/^KEY {2}\d{4}-/);
      expect(listed.out).not.toContain('value-from-the-environment');
      expect((await cli(['secret', 'list'])).out).toMatch(/^KEY /);
      expect((await cli(['secret', 'set', 'KEY', '--from-env', 'UNSET_VARIABLE'])).code).toBe(2);
      expect((await cli(['secret', 'set', '1BAD', '--from-env', 'DEPLOY_KEY'])).code).toBe(2);
      const unknown = await cli(['secret', 'set', 'KEY', '--from-env', 'DEPLOY_KEY', '--job-type', 'nothing']);
      expect(unknown.code).toBe(1);
      expect((await cli(['secret', 'delete', 'KEY', '--job-type', 'deploy'])).out).toBe('deleted secret KEY of job type deploy');
      expect((await cli(['secret', 'list', '--job-type', 'deploy'])).out).toBe('');
    } finally {
      await queen.close();
      rmSync(secretDir, { recursive: true, force: true });
    }
  });
});
