import { type AddressInfo, createServer, type Socket } from 'node:net';
import {
  canonicalJson,
  fingerprint,
  IdempotencyEngine,
  IdempotencyProblem,
  MemoryStore,
  parseIdempotencyKey,
  type StoredResponse,
  startSweeper,
  stepKey,
} from '@myrmex/idempotency';
import { PostgresStore } from '@myrmex/idempotency/postgres';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { quietLogger } from './helpers.js';
import { openSqlite } from './stores.js';

describe('Idempotency-Key parsing', () => {
  it('accepts bare tokens and quoted Structured Field strings with escapes', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({ ok: true, key: '8e03978e-40d5-43e8-bc93-6894a57f9324' });
    expect(parseIdempotencyKey(' "a b\\"c\\\\" ')).toEqual({ ok: true, key: 'a b"c\\' });
    expect(parseIdempotencyKey('"x"')).toEqual(parseIdempotencyKey('x'));
  });

  it('rejects empty, unterminated, bad escapes, trailing data, control characters and over 255 characters', () => {
    for (const raw of ['', '""', '"abc', '"a\\b"', '"a" b', 'a b', '"tab\there"', 'x'.repeat(256), '"é"', 'a,b']) {
      expect(parseIdempotencyKey(raw).ok, raw).toBe(false);
    }
    expect(parseIdempotencyKey('x'.repeat(255)).ok).toBe(true);
  });

  it('round-trips any printable key through the quoted form', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e]{1,255}$/), (key) => {
        const quoted = `"${key.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
        expect(parseIdempotencyKey(quoted)).toEqual({ ok: true, key });
      }),
    );
  });
});

describe('fingerprints', () => {
  const input = (body: string, method = 'POST', route = '/p') => ({ method, route, body: Buffer.from(body) });

  it('cover method, route and body bytes without ambiguity at the boundaries', () => {
    expect(fingerprint(input('{}'))).toBe(fingerprint(input('{}')));
    expect(fingerprint(input('{}', 'PATCH'))).not.toBe(fingerprint(input('{}')));
    expect(fingerprint(input('{}', 'POST', '/q'))).not.toBe(fingerprint(input('{}')));
    expect(fingerprint({ method: 'POST', route: '/ab', body: Buffer.from('c') })).not.toBe(
      fingerprint({ method: 'POST', route: '/a', body: Buffer.from('bc') }),
    );
  });

  it('canonical JSON is independent of key order and whitespace (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        const a = fingerprint(input(JSON.stringify(object)), 'canonical-json');
        const b = fingerprint(input(JSON.stringify(reversed, null, 2)), 'canonical-json');
        expect(a).toBe(b);
        expect(JSON.parse(canonicalJson(object))).toEqual(JSON.parse(JSON.stringify(object)));
      }),
    );
  });

  it('selected fields ignore everything else', () => {
    const mode = { fields: ['amount', 'card.last4'] };
    expect(fingerprint(input('{"amount":5,"card":{"last4":"4242"},"note":"a"}'), mode)).toBe(
      fingerprint(input('{"note":"b","card":{"last4":"4242","exp":"12/30"},"amount":5}'), mode),
    );
    expect(fingerprint(input('{"amount":5}'), mode)).not.toBe(fingerprint(input('{"amount":6}'), mode));
  });
});

describe('engine options', () => {
  const store = new MemoryStore();
  it.each([
    [{ store: {} }, /options.store must implement IdempotencyStore/],
    [{ store, leaseMs: 0 }, /options.leaseMs must be a positive integer/],
    [{ store, leaseMs: 100, heartbeatMs: 100 }, /options.heartbeatMs \(100\) must be shorter than options.leaseMs/],
    [{ store, leaseMs: 1000, retentionMs: 10 }, /options.retentionMs \(10\) must be at least options.leaseMs/],
    [{ store, replayHeaders: ['Set-Cookie'] }, /must not contain set-cookie/],
    [{ store, fingerprint: { fields: [] } }, /options.fingerprint must be/],
    [{ store, requiredMethods: ['PO ST'] }, /options.requiredMethods/],
    [{ store, waitMs: -1 }, /options.waitMs must be a non-negative integer/],
    [{ store, logger: {} }, /options.logger must have warn/],
  ])('rejects %o', (options, message) => {
    expect(() => new IdempotencyEngine(options as never)).toThrow(message);
  });

  it('begin() names the bad request field', async () => {
    const engine = new IdempotencyEngine({ store, logger: quietLogger });
    await expect(engine.begin({ method: 'POST', route: '', principal: 'p', key: 'k', body: Buffer.alloc(0) })).rejects.toThrow(
      'request.route',
    );
    await expect(engine.begin({ method: 'POST', route: '/r', principal: 'p', key: 'k', body: 'x' as never })).rejects.toThrow(
      'request.body',
    );
  });

  it('problems are RFC 9457 documents with a type URI, a help link and Retry-After when given', () => {
    const problem = new IdempotencyProblem('request-in-progress', 'busy', { retryAfterSeconds: 2 });
    expect(JSON.parse(problem.body().toString())).toEqual({
      type: 'https://www.npmjs.com/package/@myrmex/idempotency#problem-request-in-progress',
      title: 'A request with this Idempotency-Key is in progress',
      status: 409,
      detail: 'busy',
    });
    expect(problem.headers()).toMatchObject({
      'content-type': 'application/problem+json',
      'retry-after': '2',
      link: '<https://www.npmjs.com/package/@myrmex/idempotency#problem-request-in-progress>; rel="describedby"; type="text/html"',
    });
  });

  it('stepKey validates its input and stays a valid key', () => {
    expect(() => stepKey('bad key', 'a')).toThrow('parentKey');
    expect(() => stepKey('k', 'has space')).toThrow('step');
    expect(parseIdempotencyKey(stepKey('x'.repeat(255), 'z'.repeat(64))).ok).toBe(true);
  });
});

describe('sweeper', () => {
  it('purges expired records on its timer and reports each sweep', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    await store.claim({ scope: 'gone', fingerprint: 'f', token: 't', now, leaseExpiresAt: now + 1, expiresAt: now + 1 });
    await store.claim({ scope: 'kept', fingerprint: 'f', token: 't', now, leaseExpiresAt: now + 1, expiresAt: now + 60_000 });
    const swept: number[] = [];
    const sweeper = startSweeper({ store, intervalMs: 20, clock: () => now + 10, onSweep: (purged) => swept.push(purged) });
    await new Promise((resolve) => setTimeout(resolve, 70));
    sweeper.stop();
    expect(swept[0]).toBe(1);
    expect(swept.slice(1).every((purged) => purged === 0)).toBe(true);
    expect(await store.get('kept', now + 10)).toBeDefined();
    expect(() => startSweeper({ store, intervalMs: 0 })).toThrow('options.intervalMs');
  });
});

/**
 * The law: whatever the interleaving of requests, retries and failures, no two executions of a
 * key overlap, at most one execution per key is recorded, and every successful response to a
 * key, original or replay, is the same bytes.
 */
describe('interleaving property', () => {
  const stores = { memory: () => ({ store: new MemoryStore(), dispose: async () => undefined }), sqlite: () => openSqlite() };
  for (const [name, open] of Object.entries(stores)) {
    it(`holds on ${name}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(fc.record({ key: fc.constantFrom('k1', 'k2', 'k3'), fails: fc.boolean(), late: fc.boolean() }), {
            minLength: 1,
            maxLength: 25,
          }),
          async (scheduler, requests) => {
            const opened = open();
            const engine = new IdempotencyEngine({ store: opened.store, logger: quietLogger });
            const running = new Map<string, number>();
            const recorded = new Map<string, number>();
            const answers = new Map<string, Set<string>>();
            let serial = 0;
            const one = async (r: (typeof requests)[number]) => {
              const begin = await scheduler.schedule(
                engine.begin({ method: 'POST', route: '/x', principal: 'p', key: r.key, body: Buffer.from('same') }),
              );
              if (begin.kind === 'replay') return note(r.key, begin.response);
              if (begin.kind !== 'execute') return;
              // Once a key has a recorded answer it never executes again.
              expect(recorded.has(r.key)).toBe(false);
              running.set(r.key, (running.get(r.key) ?? 0) + 1);
              expect(running.get(r.key)).toBe(1);
              if (r.late) await scheduler.schedule(Promise.resolve(), 'handler work');
              running.set(r.key, running.get(r.key)! - 1);
              const run = ++serial;
              const response = {
                status: r.fails ? 503 : 201,
                headers: { 'content-type': 'text/plain', etag: `"${run}"`, 'set-cookie': `run=${run}` },
                body: Buffer.from(`${r.key}#${run}`),
              };
              const settled = await scheduler.schedule(begin.lease.complete(response));
              if (settled.kind === 'stored') {
                recorded.set(r.key, (recorded.get(r.key) ?? 0) + 1);
                note(r.key, settled.response);
              }
            };
            const note = (key: string, response: StoredResponse) => {
              const seen = answers.get(key) ?? new Set<string>();
              seen.add(`${response.status}:${JSON.stringify(response.headers)}:${response.body.toString('hex')}`);
              answers.set(key, seen);
            };
            const all = Promise.all(requests.map(one));
            await scheduler.waitFor(all);
            for (const count of recorded.values()) expect(count).toBe(1);
            for (const seen of answers.values()) expect(seen.size).toBe(1);
            await opened.dispose();
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});

describe('key scope', () => {
  const begin = (engine: IdempotencyEngine, over: { method?: string; route?: string; principal?: string }) =>
    engine.begin({ method: 'POST', route: '/a', principal: 'p', key: 'k', body: Buffer.from('{}'), ...over });
  const done = async (result: Awaited<ReturnType<typeof begin>>) => {
    if (result.kind !== 'execute') throw new Error(`expected execute, got ${result.kind}`);
    await result.lease.complete({ status: 201, headers: {}, body: Buffer.from('ok') });
  };

  it('by default includes method and route: one key on another route or method is another request', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger });
    await done(await begin(engine, {}));
    await done(await begin(engine, { route: '/b' }));
    await done(await begin(engine, { method: 'PATCH' }));
    await done(await begin(engine, { principal: 'q' }));
    expect((await begin(engine, {})).kind).toBe('replay');
  });

  it("'principal' scope makes a key reused on another route or method a 422, still separate per principal", async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, scope: 'principal' });
    await done(await begin(engine, {}));
    for (const over of [{ route: '/b' }, { method: 'PATCH' }]) {
      const reused = await begin(engine, over);
      expect(reused.kind === 'problem' && reused.problem.kind).toBe('fingerprint-mismatch');
    }
    await done(await begin(engine, { principal: 'q', route: '/b' }));
    expect(() => new IdempotencyEngine({ store: new MemoryStore(), scope: 'global' as never })).toThrow(
      "options.scope must be 'route' or 'principal', got global",
    );
  });
});

describe('response policy', () => {
  const run = async (engine: IdempotencyEngine, key: string, status: number, headers: Record<string, string> = {}) => {
    const request = { method: 'POST', route: '/r', principal: 'p', key, body: Buffer.from('{}') };
    const first = await engine.begin(request);
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    const settlement = await first.lease.complete({ status, headers, body: Buffer.from(`answer ${status}`) });
    return { settlement, again: await engine.begin(request) };
  };

  it('stores 2xx, 3xx and 4xx answers; 408, 409, 425, 429 and 5xx release the key', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger });
    for (const status of [200, 201, 202, 204, 303, 400, 402, 403, 404, 422]) {
      const { settlement, again } = await run(engine, `k${status}`, status);
      expect(settlement.kind, String(status)).toBe('stored');
      expect(again.kind === 'replay' && again.response.status, String(status)).toBe(status);
    }
    for (const status of [408, 409, 425, 429, 500, 502, 503]) {
      const { settlement, again } = await run(engine, `k${status}`, status);
      expect(settlement, String(status)).toEqual({ kind: 'released', reason: 'status' });
      expect(again.kind, String(status)).toBe('execute');
    }
  });

  it('shouldStore replaces the policy', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, shouldStore: (status) => status < 400 });
    expect((await run(engine, 'declined', 402)).again.kind).toBe('execute');
    expect((await run(engine, 'ok', 201)).again.kind).toBe('replay');
    expect(() => new IdempotencyEngine({ store: new MemoryStore(), shouldStore: 'all' as never })).toThrow('options.shouldStore');
  });

  it('replays Content-Type, Location, ETag, Link and configured headers; never Set-Cookie, Date or the rest', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, replayHeaders: ['X-Request-Cost'] });
    const { again } = await run(engine, 'h', 201, {
      'Content-Type': 'application/json',
      Location: '/p/1',
      ETag: '"v1"',
      Link: '</p/1/receipt>; rel="related"',
      'X-Request-Cost': '3',
      'Set-Cookie': 'session=abc',
      Date: 'Wed, 25 Nov 2026 12:00:00 GMT',
      'X-Trace-Id': 'one-request-only',
    });
    expect(again.kind === 'replay' && again.response.headers).toEqual({
      'content-type': 'application/json',
      location: '/p/1',
      etag: '"v1"',
      link: '</p/1/receipt>; rel="related"',
      'x-request-cost': '3',
    });
    expect(() => new IdempotencyEngine({ store: new MemoryStore(), replayHeaders: ['Date'] })).toThrow('must not contain date');
  });
});

describe('waiting and store failures', () => {
  it('a bounded wait gives up with 409 and Retry-After once waitMs has passed', async () => {
    const store = new MemoryStore();
    const request = { method: 'POST', route: '/r', principal: 'p', key: 'busy', body: Buffer.from('{}') };
    const first = await new IdempotencyEngine({ store, logger: quietLogger }).begin(request);
    expect(first.kind).toBe('execute');
    const waiting = new IdempotencyEngine({ store, logger: quietLogger, waitMs: 150, retryAfterSeconds: 2 });
    const started = Date.now();
    const second = await waiting.begin(request);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(second.kind === 'problem' && second.problem.headers()['retry-after']).toBe('2');
    expect(second.kind === 'problem' && second.problem.status).toBe(409);
    if (first.kind === 'execute') await first.lease.release();
  });

  it('a store that accepts connections but never answers is a 503 after storeTimeoutMs, and nothing executes', async () => {
    // A real TCP peer that swallows the PostgreSQL handshake: the driver waits forever.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${(silent.address() as AddressInfo).port}/x` });
    pool.on('error', () => undefined);
    try {
      const engine = new IdempotencyEngine({ store: new PostgresStore({ pool }), logger: quietLogger, storeTimeoutMs: 200 });
      const started = Date.now();
      const begin = await engine.begin({ method: 'POST', route: '/r', principal: 'p', key: 'hang', body: Buffer.from('{}') });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(begin.kind === 'problem' && begin.problem.kind).toBe('store-unavailable');
      expect(begin.kind === 'problem' && begin.problem.headers()['retry-after']).toBe('1');
      expect(engine.metrics).toMatchObject({ executions: 0, storeErrors: 1 });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await pool.end().catch(() => undefined);
    }
  });
});
