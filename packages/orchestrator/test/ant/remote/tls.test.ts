import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, Queen } from '@myrmex/orchestrator';
import { type ThrowawayTls, throwawayTls } from '@myrmex/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Proc, type QueenProc, startAnt, startQueen, until } from './harness.js';

/**
 * A queen serving HTTPS/WSS with a certificate from a CA made for this run, and remote ants in their
 * own processes: trusted over wss:// they run work; without the CA, or over plain ws://, they stop
 * with a message saying what to pass; the token is still checked on the upgrade.
 */
const TOKEN = 'tls-ant-test-token-0123456789abcd';
let dir: string;
let certs: ThrowawayTls;
let front: Queen;
let q: QueenProc;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myrmex-tls-'));
  certs = throwawayTls(dir);
  const db = join(dir, 'queen.db');
  front = await Queen.open({ store: await openStore(db), ant: { capacity: 0 }, pollIntervalMs: 50 });
  await front.start();
  q = await startQueen({ db, tokens: TOKEN, leaseMs: 3000, tls: { cert: certs.certFile, key: certs.keyFile } });
  procs.push(q);
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill9()));
  await front.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ant = async (options: Parameters<typeof startAnt>[0]): Promise<Proc> => {
  const a = await startAnt({ stateDir: join(dir, `state-${options.id}`), backoff: { baseMs: 50, capMs: 500 }, ...options });
  procs.push(a);
  return a;
};

describe('remote ants over TLS (a queen with a private CA)', () => {
  it('an ant given the CA connects over wss:// and runs a job', async () => {
    expect(q.url).toMatch(/^https:\/\//);
    const a = await ant({ servers: [q.url.replace(/^https:/, 'wss:')], token: TOKEN, id: 'tls-ant', ca: certs.ca });
    await a.line(/^connected /);
    await front.applyDefinition("job_type: over-tls\ntasks:\n  - task_type: t\n    script: ['echo secured']\n");
    const { id } = await front.submit({ jobType: 'over-tls' });
    const job = await until(async () => {
      const j = await front.getJob(id);
      return j && ['COMPLETED', 'FAILED'].includes(j.state) ? j : undefined;
    }, 'the job to end');
    expect(job.state).toBe('COMPLETED');
    expect(job.tasks[0]!.attempts[0]!.antId).toBe('tls-ant');
    expect((await front.logs(id)).map((l) => l.text)).toContain('secured');
  }, 90_000);

  it('an ant without the CA stops at once, saying to pass --ca', async () => {
    const a = await ant({ servers: [q.url], token: TOKEN, id: 'no-ca' });
    const exited = await a.line(/^exited /);
    expect(JSON.parse(exited.slice('exited '.length)).refused).toMatch(
      /TLS certificate is not trusted .*pass the CA that signed it with --ca <pem> \(or MYRMEX_ANT_CA\)/,
    );
    expect(await a.exited).toBe(2);
  }, 60_000);

  it('plain ws:// to the TLS queen stops the ant with "use a wss:// URL"', async () => {
    const a = await ant({ servers: [q.url.replace(/^https:/, 'ws:')], token: TOKEN, id: 'plain', ca: certs.ca });
    const exited = await a.line(/^exited /);
    expect(JSON.parse(exited.slice('exited '.length)).refused).toMatch(/speaks TLS only: use a wss:\/\/ or https:\/\/ URL/);
    expect(await a.exited).toBe(2);
  }, 60_000);

  it('the token is still checked on the upgrade', async () => {
    const a = await ant({ servers: [q.url], token: 'not-the-token-0123456789abcdef', id: 'bad-token', ca: certs.ca });
    const exited = await a.line(/^exited /);
    expect(JSON.parse(exited.slice('exited '.length)).refused).toMatch(/refused the ant token \(HTTP 401\)/);
  }, 60_000);
});
