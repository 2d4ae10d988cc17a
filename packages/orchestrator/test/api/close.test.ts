import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
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

// The secrets suite's binary-artifact test: a download's client has every byte its Content-Length
// promised, so it moves on and the test closes the API, while the server still waits for the file's
// EOF read to end the response. That connection was not idle when closing began, so it was left to
// Fastify's keep-alive timeout (72 s; now the grace) instead of closing once its response finished.
it('closing closes a keep-alive connection as soon as the response it was writing finishes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-api-close-'));
  const queen = await Queen.open({ dbPath: join(dir, 'q.db'), ant: { capacity: 0 } });
  const body = new PassThrough();
  // A grace longer than the test's timeout: only the finished response can let the close through.
  const app = await createApi(queen, {
    closeGraceMs: 600_000,
    extend: async (scope) => {
      scope.get('/download', async (_request, reply) =>
        reply.header('content-type', 'application/octet-stream').header('content-length', '5').send(body),
      );
    },
  });
  const agent = new Agent({ keepAlive: true });
  try {
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    let socketClosed!: Promise<void>;
    const received = await new Promise<string>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: '/download', agent }, (response) => {
        socketClosed = new Promise((closed) => response.socket.once('close', () => closed()));
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(text));
        response.on('error', reject);
      })
        .on('error', reject)
        .end();
      // Every promised byte, but the source has not ended yet: the server's response is unfinished.
      body.write('bytes');
    });
    expect(received).toBe('bytes');
    const closing = app.close();
    // Wait until closing has begun (idle connections are already gone by then), then let the response finish.
    while (app.server.listening) await new Promise<void>((resolve) => setImmediate(resolve));
    body.end();
    await socketClosed;
    await closing;
  } finally {
    agent.destroy();
    body.destroy();
    await queen.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
