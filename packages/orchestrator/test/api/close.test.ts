import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createApi, Queen } from '../../src/index.js';

it('closing cuts a response still being written once the grace is over, so shutdown is bounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-api-close-'));
  const queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity: 0 } });
  const endless = new PassThrough();
  const app = await createApi(queen, {
    closeGraceMs: 200,
    // A download whose body never ends: what a stuck stream looks like to the server.
    extend: async (scope) => {
      scope.get('/endless', async (_request, reply) => reply.header('content-type', 'application/octet-stream').send(endless));
    },
  });
  try {
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    let started!: () => void;
    const begun = new Promise<void>((resolve) => (started = resolve));
    const cut = new Promise<string>((resolve) => {
      request({ host: url.hostname, port: url.port, path: '/endless' }, (response) => {
        expect(response.statusCode).toBe(200);
        response.on('data', () => started());
        response.on('error', () => resolve('cut'));
        response.on('close', () => resolve(response.complete ? 'complete' : 'cut'));
      }).end();
    });
    endless.write('first bytes');
    await begun;
    await app.close();
    expect(await cut).toBe('cut');
  } finally {
    endless.destroy();
    await queen.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
