import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, RemoteAnt } from '../../src/index.js';
import { apply, servers, submit } from '../observability/helpers.js';
import { req } from './harness.js';

const start = servers();

describe('why a job of an organisation waits for an ant', () => {
  it("names the organisation: none of its ants (or the shared ones) is connected, or none of them has the task's method", async () => {
    // No embedded ant: only the remote ants below, each bound to its organisation.
    const { server } = await start({ auth: true, capacity: 0 });
    const admin = server.auth?.bootstrapToken as string;
    const acme = (await req(server, 'POST', '/api/orgs', admin, { id: 'acme', name: 'Acme' })).body.token as string;
    const beta = (await req(server, 'POST', '/api/orgs', admin, { id: 'beta', name: 'Beta' })).body.token as string;
    const antToken = async (token: string) =>
      (await req(server, 'POST', '/api/tokens', token, { name: 'ant', scopes: ['ant'] })).body.token as string;
    await apply(server.url, 'job_type: build\ntasks:\n  - task_type: a\n    method: SHELL\n    script: ["true"]\n', {
      authorization: `Bearer ${acme}`,
    });
    const dir = mkdtempSync(join(server.dbPath, '..', 'ants-'));
    const ants: RemoteAnt[] = [];
    const ant = async (token: string, id: string, methods?: string[]) => {
      const started = new RemoteAnt({
        servers: [server.url],
        token,
        id,
        capacity: 1,
        ...(methods && { methods }),
        stateDir: join(dir, id),
        logger: createLogger({ format: 'json', write: () => {} }),
      });
      await started.start();
      ants.push(started);
    };
    const connected = async (count: number) =>
      expect
        .poll(
          async () => (await req(server, 'GET', '/api/ants', admin)).body.items.filter((a: { connected?: boolean }) => a.connected).length,
          {
            timeout: 30_000,
          },
        )
        .toBe(count);
    try {
      // Beta's ant runs SHELL, but Acme's job may not run there.
      await ant(await antToken(beta), 'b1');
      await connected(1);
      const job = await submit(server.url, 'build', {}, { authorization: `Bearer ${acme}` });
      const reason = async () =>
        (await req(server, 'GET', `/api/jobs/requests/${job.id}/scheduling`, acme)).body.reason as string | undefined;
      await expect.poll(reason, { timeout: 30_000 }).toBe('task a waits: no ant serves organisation acme');
      // Acme's own ant runs HTTP_GET only.
      await ant(await antToken(acme), 'a1', ['HTTP_GET']);
      await connected(2);
      await expect.poll(reason, { timeout: 30_000 }).toBe('task a waits: no ant of org acme has method SHELL');
      expect((await req(server, 'GET', `/api/jobs/requests/${job.id}`, acme)).body.state).toBe('READY');
    } finally {
      for (const running of ants) await running.stop();
    }
  });
});
