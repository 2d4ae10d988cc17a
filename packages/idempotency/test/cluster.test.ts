import { freshEach, postgres, redis } from '@myrmex/test-utils';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from './helpers.js';
import { buildPackage, charges, pay, runPay, type ServerProcess, startServer } from './processes.js';

const pgGate = await postgres();
const redisGate = await redis();

const servers: ServerProcess[] = [];
beforeAll(buildPackage, 120_000);
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function metrics(url: string): Promise<{ executions: number; staleCompletions: number }> {
  return (await (await fetch(`${url}/metrics/idempotency`)).json()) as { executions: number; staleCompletions: number };
}

async function cluster(count: number, args: string[]): Promise<ServerProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startServer(args)));
  servers.push(...started);
  return started;
}

/** 200 requests with one key, spread round-robin over the processes, all in flight at once. */
async function storm(urls: string[], key: string): Promise<{ statuses: number[]; bodies: Set<string> }> {
  const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => pay(urls[i % urls.length]!, key)));
  const statuses = responses.map((response) => response.status);
  const bodies = new Set<string>();
  await Promise.all(
    responses.map(async (response) => {
      const text = await response.text();
      if (response.status === 201) bodies.add(text);
    }),
  );
  return { statuses, bodies };
}

function expectOneExecution(result: { statuses: number[]; bodies: Set<string> }): void {
  expect(result.statuses.filter((status) => status !== 201 && status !== 409)).toEqual([]);
  expect(result.statuses).toContain(201);
  // Every 201 (the original and each replay) carries the same bytes.
  expect(result.bodies.size).toBe(1);
}

describe('several server processes as one service', () => {
  pgGate.describe('on PostgreSQL', () => {
    const db = freshEach(() => pgGate.freshDatabase());

    it('200 concurrent requests with one key over 4 processes execute exactly once', async () => {
      const nodes = await cluster(4, ['--store', 'postgres', '--store-url', db.current.url, '--delay-ms', '300']);
      const result = await storm(
        nodes.map((node) => node.url),
        'storm-pg',
      );
      expectOneExecution(result);
      expect(await charges(nodes[0]!.url)).toBe(1);
      const replay = await pay(nodes[3]!.url, 'storm-pg');
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(result.bodies.has(await replay.text())).toBe(true);
    }, 60_000);

    it('a process killed mid-handler blocks retries until its lease lapses; then a retry runs exactly once', async () => {
      const [doomed] = await cluster(1, [
        '--store',
        'postgres',
        '--store-url',
        db.current.url,
        '--delay-ms',
        '60000',
        '--lease-ms',
        '4000',
      ]);
      const [survivor] = await cluster(1, ['--store', 'postgres', '--store-url', db.current.url, '--lease-ms', '4000']);
      const lost = pay(doomed!.url, 'crash').catch((error: unknown) => error);
      // Kill it once its claim is in the database (the condition), not after a guessed delay.
      const pool = new pg.Pool({ connectionString: db.current.url, max: 1 });
      try {
        await until(
          async () => (await pool.query("SELECT 1 FROM idempotency_keys WHERE state = 'pending'")).rowCount === 1,
          30_000,
          'the doomed process to claim the key',
        );
      } finally {
        await pool.end();
      }
      doomed!.child.kill('SIGKILL');
      expect(await lost).toBeInstanceOf(Error);
      const early = await pay(survivor!.url, 'crash');
      expect(early.status).toBe(409);
      expect(early.headers.get('retry-after')).toBe('1');
      let retry = early;
      await until(
        async () => {
          retry = await pay(survivor!.url, 'crash');
          return retry.status !== 409;
        },
        30_000,
        'the dead lease to lapse',
      );
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      const again = await pay(survivor!.url, 'crash');
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await charges(survivor!.url)).toBe(1);
    }, 60_000);

    it('a frozen process whose lease was taken over has its late completion rejected and its charge rolled back', async () => {
      const [frozen] = await cluster(1, ['--store', 'postgres', '--store-url', db.current.url, '--delay-ms', '1500', '--lease-ms', '600']);
      const [live] = await cluster(1, ['--store', 'postgres', '--store-url', db.current.url, '--lease-ms', '600']);
      const late = pay(frozen!.url, 'stale');
      await until(async () => (await metrics(frozen!.url)).executions === 1, 10_000, 'the frozen process to claim the key');
      // SIGSTOP stands in for a long GC pause or a partition: no heartbeats, so the lease lapses.
      frozen!.child.kill('SIGSTOP');
      let winner: Response | undefined;
      await until(
        async () => {
          winner = await pay(live!.url, 'stale');
          return winner.status !== 409;
        },
        10_000,
        'the frozen lease to lapse',
      );
      expect(winner!.status).toBe(201);
      frozen!.child.kill('SIGCONT');
      const loser = await late;
      expect(loser.status).toBe(409);
      expect(((await loser.json()) as { type: string }).type).toMatch(/#problem-lease-lost$/);
      expect((await metrics(frozen!.url)).staleCompletions).toBe(1);
      expect(await charges(live!.url)).toBe(1);
      const replay = await pay(frozen!.url, 'stale');
      expect(await replay.text()).toBe(await winner!.text());
    }, 60_000);
  });

  redisGate.describe('on Redis', () => {
    const prefix = freshEach(() => redisGate.freshPrefix());

    it('200 concurrent requests with one key over 4 processes execute exactly once', async () => {
      const nodes = await cluster(4, [
        '--store',
        'redis',
        '--store-url',
        prefix.current.url,
        '--prefix',
        prefix.current.prefix,
        '--delay-ms',
        '300',
      ]);
      const result = await storm(
        nodes.map((node) => node.url),
        'storm-redis',
      );
      expectOneExecution(result);
      // Redis mode counts charges in each process: the sum over the cluster is what ran.
      const perNode = await Promise.all(nodes.map((node) => charges(node.url)));
      expect(perNode.reduce((sum, count) => sum + count, 0)).toBe(1);
    }, 60_000);
  });

  it('the examples: two pay.mjs runs with one key charge once, the second retrying through 409 to the replay; bad flags are rejected', async () => {
    const [node] = await cluster(1, ['--store', 'memory', '--delay-ms', '2000']);
    const [a, b] = await Promise.all([runPay(['--url', node!.url, '--key', 'shell-1']), runPay(['--url', node!.url, '--key', 'shell-1'])]);
    const line = /^201 after (\d) attempt\(s\) with key shell-1: (\{"id":"pay_.*\})\n$/;
    const [matchA, matchB] = [line.exec(a.stdout), line.exec(b.stdout)];
    expect([a.code, b.code, matchA !== null, matchB !== null]).toEqual([0, 0, true, true]);
    expect(matchA![2]).toBe(matchB![2]);
    // One call ran; the other met 409 + Retry-After and came back for the replay.
    const attempts = [Number(matchA![1]), Number(matchB![1])].sort();
    expect(attempts[0]).toBe(1);
    expect(attempts[1]).toBeGreaterThanOrEqual(2);
    expect(`${a.stderr}${b.stderr}`).toContain(': 409, retrying in 1000 ms');
    expect(await charges(node!.url)).toBe(1);
    const bad = await runPay(['--url', node!.url, '--amount', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--amount must be a positive integer');
    await expect(startServer(['--store', 'mongo'])).rejects.toThrow('--store must be one of memory, sqlite, postgres, redis');
    await expect(startServer(['--store', 'postgres', '--store-url', 'postgres://postgres@127.0.0.1:1/none'])).rejects.toThrow(
      'the postgres store is unreachable',
    );
  }, 60_000);
});
