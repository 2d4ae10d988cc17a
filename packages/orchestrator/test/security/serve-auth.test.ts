import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { postgres } from '@myrmex/test-utils';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type RunningServer, serve } from '../../src/index.js';
import { req } from './harness.js';

const gate = await postgres();
const running: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

async function start(db: string, log = capture()): Promise<RunningServer> {
  const server = await serve({ db, port: 0, auth: true, handleSignals: false, logger: log.logger, capacity: 1 });
  running.push(server);
  return server;
}

describe('serve with its safe defaults', () => {
  it('prints a generated admin token on the first start only, and requires tokens on the API and the metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-serve-auth-'));
    dirs.push(dir);
    const log = capture();
    const server = await start(join(dir, 'q.db'), log);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const token = /myx_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}/.exec(log.lines.join(''))?.[0] as string;
    expect(token).toBe(server.auth?.bootstrapToken);
    expect((await req(server, 'GET', '/api/jobs/requests')).status).toBe(401);
    expect((await req(server, 'GET', '/api/jobs/requests', token)).status).toBe(200);
    expect((await req(server, 'GET', '/metrics')).status).toBe(401);
    expect((await req(server, 'GET', '/metrics', token)).status).toBe(200);
    expect((await req(server, 'GET', '/healthz')).status).toBe(200);
    await server.close();
    running.splice(0);
    const again = capture();
    const restarted = await start(join(dir, 'q.db'), again);
    expect(again.lines.join('')).not.toMatch(/myx_/);
    expect((await req(restarted, 'GET', '/api/jobs/requests', token)).status).toBe(200);
  });

  it('lets ants in on their WebSocket with an ant-scoped token only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-serve-ant-'));
    dirs.push(dir);
    const server = await start(join(dir, 'q.db'));
    const admin = server.auth?.bootstrapToken as string;
    const ant = await req(server, 'POST', '/api/tokens', admin, { name: 'ant', scopes: ['ant'] });
    const reader = await req(server, 'POST', '/api/tokens', admin, { name: 'reader', scopes: ['read'] });
    const connect = (token: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/ants/socket`, {
          headers: { authorization: `Bearer ${token}` },
        });
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.once('error', reject);
      });
    expect(await connect(reader.body.token)).toBe(401);
    expect(await connect(admin)).toBe(401);
    expect(await connect(ant.body.token)).toBe(101);
  });

  it('refuses to listen beyond loopback without authentication, saying how to turn it on', async () => {
    await expect(serve({ db: ':memory:', host: '0.0.0.0', port: 0, auth: false, handleSignals: false })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without authentication.*MYRMEX_AUTH/,
    );
  });
});

gate.describe('revocation across queens', () => {
  it('a token revoked on one queen is refused by another within a second', async () => {
    const db = await gate.freshDatabase();
    try {
      const first = await start(db.url);
      const second = await start(db.url);
      const admin = (first.auth?.bootstrapToken ?? second.auth?.bootstrapToken) as string;
      expect(first.auth?.bootstrapToken === undefined || second.auth?.bootstrapToken === undefined).toBe(true);
      const created = await req(first, 'POST', '/api/tokens', admin, { name: 'ci', scopes: ['read'] });
      expect(created.status).toBe(201);
      // Warm the second queen's cache with the token as valid.
      expect((await req(second, 'GET', '/api/jobs/requests', created.body.token)).status).toBe(200);
      expect((await req(first, 'DELETE', `/api/tokens/${created.body.id}`, admin)).status).toBe(204);
      const revokedAt = Date.now();
      let refusedAfter: number | undefined;
      while (refusedAfter === undefined && Date.now() - revokedAt < 5000) {
        if ((await req(second, 'GET', '/api/jobs/requests', created.body.token)).status === 401) refusedAfter = Date.now() - revokedAt;
      }
      expect(refusedAfter).toBeDefined();
      expect(refusedAfter as number).toBeLessThan(1000);
    } finally {
      for (const server of running.splice(0)) await server.close();
      await db.dispose();
    }
  });
});
