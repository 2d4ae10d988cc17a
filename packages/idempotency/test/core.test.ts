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
import fc from 'fast-check';
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
      link: expect.stringContaining('rel="help"'),
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
              const response = { status: r.fails ? 503 : 201, headers: {}, body: Buffer.from(`${r.key}#${++serial}`) };
              const settled = await scheduler.schedule(begin.lease.complete(response));
              if (settled.kind === 'stored') {
                recorded.set(r.key, (recorded.get(r.key) ?? 0) + 1);
                note(r.key, settled.response);
              }
            };
            const note = (key: string, response: StoredResponse) => {
              const seen = answers.get(key) ?? new Set<string>();
              seen.add(`${response.status}:${response.body.toString('hex')}`);
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
