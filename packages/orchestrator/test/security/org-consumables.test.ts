import { describe, expect, it } from 'vitest';
import { apply, servers, submit, waitForEnd } from '../observability/helpers.js';
import { req } from './harness.js';

const start = servers();

/**
 * Consumable pools are the platform's (issue 14 with issue 17's tenancy): only a platform administrator declares
 * one; an organisation sees how many units are in use, and among the holders only its own jobs.
 */
describe('consumable pools with organisations', () => {
  it("an organisation sees the units in use but not another organisation's holding jobs; only the platform declares pools", async () => {
    const { server } = await start({ auth: true });
    const admin = server.auth?.bootstrapToken as string;
    const acme = (await req(server, 'POST', '/api/orgs', admin, { id: 'acme', name: 'Acme' })).body.token as string;
    const beta = (await req(server, 'POST', '/api/orgs', admin, { id: 'beta', name: 'Beta' })).body.token as string;

    const refused = await req(server, 'PUT', '/api/consumables/License', acme, { capacity: 5 });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/needs a platform administrator/);
    expect((await req(server, 'PUT', '/api/consumables/License', admin, { capacity: 2 })).status).toBe(204);

    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    await apply(
      server.url,
      'job_type: beta-licensed\ntasks:\n  - task_type: use\n    resources: { resource_type: License, value: 1 }\n    script: ["sleep 30"]\n',
      auth(beta),
    );
    const job = await submit(server.url, 'beta-licensed', {}, auth(beta));
    const pool = async (token: string) =>
      ((await req(server, 'GET', '/api/consumables', token)).body as { name: string; in_use: number; holders: { job_id: string }[] }[])[0];
    await expect.poll(async () => (await pool(beta))?.in_use, { timeout: 20_000 }).toBe(1);
    expect((await pool(beta))?.holders.map((h) => h.job_id)).toEqual([job.id]);
    expect((await pool(admin))?.holders.map((h) => h.job_id)).toEqual([job.id]);
    expect(await pool(acme)).toMatchObject({ name: 'License', in_use: 1, holders: [] });

    expect((await req(server, 'POST', `/api/jobs/requests/${job.id}/cancel`, beta)).status).toBe(200);
    expect(await waitForEnd(server.url, job.id, auth(beta))).toBe('CANCELLED');
    expect(await pool(beta)).toMatchObject({ in_use: 0, holders: [] });
  }, 60_000);
});
