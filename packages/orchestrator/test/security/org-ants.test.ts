import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, RemoteAnt } from '../../src/index.js';
import { apply, servers, submit, waitForEnd } from '../observability/helpers.js';
import { req } from './harness.js';

const start = servers();

const definition = (jobType: string) => `job_type: ${jobType}\ntasks:\n  - task_type: a\n    script: ["echo ran"]\n`;

describe('ants bound to an organisation', () => {
  it("run only their organisation's jobs; shared ants run anyone's; two organisations may name their ants alike", async () => {
    // No embedded ant: every task runs on the remote ants below.
    const { server } = await start({ auth: true, capacity: 0 });
    const admin = server.auth?.bootstrapToken as string;
    const acme = (await req(server, 'POST', '/api/orgs', admin, { id: 'acme', name: 'Acme' })).body.token as string;
    const beta = (await req(server, 'POST', '/api/orgs', admin, { id: 'beta', name: 'Beta' })).body.token as string;

    const acmeAnt = await req(server, 'POST', '/api/tokens', acme, { name: 'acme ant', scopes: ['ant'] });
    expect(acmeAnt.status).toBe(201);
    expect(acmeAnt.body.shared).toBeUndefined();
    const betaAnt = await req(server, 'POST', '/api/tokens', beta, { name: 'beta ant', scopes: ['ant'] });
    // Only the platform may make an ant that sees every organisation's tasks and secrets.
    const refused = await req(server, 'POST', '/api/tokens', acme, { name: 'x', scopes: ['ant'], shared: true });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/platform administrator/);
    const notAnt = await req(server, 'POST', '/api/tokens', admin, { name: 'x', scopes: ['read'], shared: true });
    expect(notAnt.status).toBe(400);
    expect(notAnt.body.errors?.[0]?.field ?? notAnt.body.detail).toMatch(/shared/);
    const fleet = await req(server, 'POST', '/api/tokens', admin, { name: 'fleet', scopes: ['ant'], shared: true });
    expect(fleet.body.shared).toBe(true);

    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    await apply(server.url, definition('acme-build'), auth(acme));
    await apply(server.url, definition('beta-build'), auth(beta));

    const dir = mkdtempSync(join(server.dbPath, '..', 'ants-'));
    const ants: RemoteAnt[] = [];
    const ant = async (token: string, id: string, state: string) => {
      const started = new RemoteAnt({
        servers: [server.url],
        token,
        id,
        capacity: 2,
        stateDir: join(dir, state),
        logger: createLogger({ format: 'json', write: () => {} }),
      });
      await started.start();
      ants.push(started);
      return started;
    };
    const ranOn = async (token: string, id: string): Promise<string> => {
      const job = await req(server, 'GET', `/api/jobs/requests/${id}`, token);
      return job.body.tasks[0].attempts[0].ant_id as string;
    };

    try {
      // Both organisations call their ant `w`: the queen knows them as w@acme and w@beta.
      const wAcme = await ant(acmeAnt.body.token, 'w', 'acme');
      const wBeta = await ant(betaAnt.body.token, 'w', 'beta');
      const acmeJobs = await Promise.all([1, 2, 3].map(() => submit(server.url, 'acme-build', {}, auth(acme))));
      const betaJobs = await Promise.all([1, 2, 3].map(() => submit(server.url, 'beta-build', {}, auth(beta))));
      for (const job of acmeJobs) expect(await waitForEnd(server.url, job.id, auth(acme))).toBe('COMPLETED');
      for (const job of betaJobs) expect(await waitForEnd(server.url, job.id, auth(beta))).toBe('COMPLETED');
      for (const job of acmeJobs) expect(await ranOn(acme, job.id)).toBe('w@acme');
      for (const job of betaJobs) expect(await ranOn(beta, job.id)).toBe('w@beta');

      // With Acme's ant gone, Acme's job waits although Beta's ant is idle: a Beta job submitted
      // after it, so behind it in the queue, still completes on Beta's ant first.
      await wAcme.stop();
      const connected = async (id: string) =>
        (await req(server, 'GET', '/api/ants', admin)).body.items.find((a: { id: string }) => a.id === id)?.connected;
      await expect.poll(() => connected('w@acme'), { timeout: 30_000 }).toBe(false);
      const waiting = await submit(server.url, 'acme-build', {}, auth(acme));
      const behind = await submit(server.url, 'beta-build', {}, auth(beta));
      expect(await waitForEnd(server.url, behind.id, auth(beta))).toBe('COMPLETED');
      expect((await req(server, 'GET', `/api/jobs/requests/${waiting.id}`, acme)).body.state).toBe('READY');
      // A shared ant takes it.
      await ant(fleet.body.token, 'fleet', 'fleet');
      expect(await waitForEnd(server.url, waiting.id, auth(acme))).toBe('COMPLETED');
      expect(await ranOn(acme, waiting.id)).toBe('fleet');

      // An organisation sees its own ants and the shared ones, not another organisation's.
      const listed = (token: string): Promise<string[]> =>
        req(server, 'GET', '/api/ants', token).then((r) => r.body.items.map((a: { id: string }) => a.id));
      expect(await listed(acme)).toEqual(expect.arrayContaining(['fleet', 'w@acme']));
      expect(await listed(acme)).not.toContain('w@beta');
      expect(await listed(beta)).toEqual(expect.arrayContaining(['fleet', 'w@beta']));
      expect(await listed(beta)).not.toContain('w@acme');
      expect(await listed(admin)).toEqual(expect.arrayContaining(['fleet', 'w@acme', 'w@beta']));
      const described = (await req(server, 'GET', '/api/ants', admin)).body.items.find((a: { id: string }) => a.id === 'w@beta');
      expect(described.org).toBe('beta');

      // A shared ant running Beta's job shows that attempt to Beta and the platform, not to Acme.
      await wBeta.stop();
      await expect.poll(() => connected('w@beta'), { timeout: 30_000 }).toBe(false);
      const gate = join(dir, 'gate');
      await apply(
        server.url,
        `job_type: beta-hold\ntasks:\n  - task_type: a\n    script: ['while [ ! -f ${gate} ]; do sleep 0.05; done']\n`,
        auth(beta),
      );
      const held = await submit(server.url, 'beta-hold', {}, auth(beta));
      const fleetAttempts = async (token: string): Promise<string[]> =>
        (await req(server, 'GET', '/api/ants', token)).body.items.find((a: { id: string }) => a.id === 'fleet')?.assignments ?? [];
      await expect.poll(() => fleetAttempts(admin), { timeout: 30_000 }).toEqual([`${held.id}/a/1`]);
      expect(await fleetAttempts(beta)).toEqual([`${held.id}/a/1`]);
      expect(await fleetAttempts(acme)).toEqual([]);
      writeFileSync(gate, '');
      expect(await waitForEnd(server.url, held.id, auth(beta))).toBe('COMPLETED');
    } finally {
      for (const running of ants) await running.stop();
    }
  });
});
