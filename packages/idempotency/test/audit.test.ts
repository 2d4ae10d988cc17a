import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  canonicalJson,
  fingerprint,
  IdempotencyEngine,
  IdempotencyError,
  IdempotencyProblem,
  LeaseExpiredError,
  MemoryStore,
  PrincipalMissingError,
  StaleLeaseError,
  StoreUnavailableError,
} from '@myrmex/idempotency';
import { idempotencyMiddleware } from '@myrmex/idempotency/express';
import { idempotencyHooks, withIdempotency } from '@myrmex/idempotency/fastify';
import express from 'express';
import fc from 'fast-check';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { post, quietLogger, until } from './helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const auth = async (request: FastifyRequest, reply: FastifyReply) => {
  const user = request.headers.authorization?.replace(/^Bearer /, '');
  if (!user) return reply.code(401).send({ error: 'who are you?' });
  (request as FastifyRequest & { user?: string }).user = user;
};

/** A Fastify app whose route authenticates in its own preHandler, as applications do. */
async function authenticatedApp(routeOptions: (hooks: ReturnType<typeof idempotencyHooks>) => object) {
  const errors: string[] = [];
  const app = Fastify();
  const hooks = idempotencyHooks({
    store: new MemoryStore(),
    logger: { warn: () => undefined, error: (_details, message) => errors.push(message) },
    principal: (request) => (request as FastifyRequest & { user?: string }).user as string,
  });
  let runs = 0;
  app.post('/orders', routeOptions(hooks) as { preHandler: typeof auth }, async (_request, reply) => {
    runs++;
    return reply.code(201).send({ order: runs });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/orders`, runs: () => runs, errors };
}

describe('Fastify: idempotency composed with a route that authenticates', () => {
  it('withIdempotency keeps both: no key is 400, a repeated key runs once, no credentials is 401', async () => {
    const { url, runs } = await authenticatedApp((hooks) => withIdempotency(hooks, { preHandler: auth }));
    const bearer = { authorization: 'Bearer alice' };
    expect((await post(url, { n: 1 }, bearer)).status).toBe(400);
    const first = await post(url, { n: 1 }, { ...bearer, 'idempotency-key': '"k"' });
    const again = await post(url, { n: 1 }, { ...bearer, 'idempotency-key': '"k"' });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(runs()).toBe(1);
    expect((await post(url, { n: 1 }, { 'idempotency-key': '"k2"' })).status).toBe(401);
    expect(runs()).toBe(1);
    // Another principal's identical key is its own key space.
    expect(
      (await post(url, { n: 1 }, { authorization: 'Bearer bob', 'idempotency-key': '"k"' })).headers.get('idempotent-replayed'),
    ).toBeNull();
    expect(runs()).toBe(2);
  });

  it('withIdempotency keeps hooks given as arrays and the route options it does not know', () => {
    const hooks = idempotencyHooks({ store: new MemoryStore(), principal: () => 'p' });
    const other = async () => undefined;
    const options = withIdempotency(hooks, { preHandler: [auth, other], config: { a: 1 }, bodyLimit: 10 });
    expect(options.preHandler).toEqual([auth, other, hooks.preHandler]);
    expect(options.onSend).toEqual([hooks.onSend]);
    expect(options).toMatchObject({ config: { a: 1 }, bodyLimit: 10 });
    expect(() => withIdempotency({} as never, {})).toThrow('hooks must come from idempotencyHooks');
  });

  it('a spread whose preHandler replaced the idempotency one is reported loudly, once per route', async () => {
    const { url, errors } = await authenticatedApp((hooks) => ({ ...hooks, preHandler: auth }));
    await post(url, { n: 1 }, { authorization: 'Bearer alice', 'idempotency-key': '"k"' });
    await post(url, { n: 1 }, { authorization: 'Bearer alice', 'idempotency-key': '"k"' });
    expect(errors.filter((message) => message.includes('idempotency preHandler never ran'))).toHaveLength(1);
  });

  it('refuses a request whose principal is missing (idempotency placed before authentication) and runs nothing', async () => {
    // The route's own preHandler runs after the idempotency one here, so no user is known yet.
    const { url, runs } = await authenticatedApp((hooks) => ({ preParsing: hooks.preParsing, preHandler: [hooks.preHandler, auth] }));
    const response = await post(url, { n: 1 }, { authorization: 'Bearer alice', 'idempotency-key': '"k"' });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { message: string }).message).toContain('authenticate the caller before the idempotency hook');
    expect(runs()).toBe(0);
  });
});

async function listen(app: express.Express): Promise<string> {
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Express: the middleware leaves a body a later parser can use', () => {
  const cases = [
    {
      type: 'application/x-www-form-urlencoded',
      body: 'a=1&b=two&a=3',
      parser: express.urlencoded(),
      expected: { a: ['1', '3'], b: 'two' },
    },
    { type: 'text/plain', body: 'hello there', parser: express.text(), expected: 'hello there' },
    {
      type: 'application/octet-stream',
      body: 'raw bytes',
      parser: express.raw(),
      expected: { type: 'Buffer', data: [...Buffer.from('raw bytes')] },
    },
    { type: 'application/json', body: '{"a":[1,2]}', parser: express.json(), expected: { a: [1, 2] } },
  ];
  for (const { type, body, parser, expected } of cases) {
    it(`${type}: a parser mounted after it sees what it would have parsed itself`, async () => {
      const app = express();
      app.post(
        '/echo',
        idempotencyMiddleware({ store: new MemoryStore(), logger: quietLogger, principal: () => 'p' }),
        parser,
        (request, response) => void response.status(201).json({ body: request.body }),
      );
      const url = await listen(app);
      const response = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': type, 'idempotency-key': '"e"' }, body });
      expect(response.status).toBe(201);
      expect(JSON.parse(JSON.stringify(((await response.json()) as { body: unknown }).body))).toEqual(expected);
    });
  }

  it('refuses a missing principal with a 500 and runs nothing', async () => {
    const app = express();
    let runs = 0;
    app.post(
      '/x',
      idempotencyMiddleware({ store: new MemoryStore(), logger: quietLogger, principal: () => undefined as never }),
      (_q, r) => {
        runs++;
        r.status(201).end();
      },
    );
    app.use((error: Error, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
      response.status(500).json({ name: error.name, message: error.message });
    });
    const url = await listen(app);
    const response = await post(`${url}/x`, {}, { 'idempotency-key': '"k"' });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { name: string }).name).toBe('PrincipalMissingError');
    expect(runs).toBe(0);
  });
});

describe('canonical-json fingerprints lose nothing', () => {
  const print = (body: string) => fingerprint({ method: 'POST', route: '/r', body: Buffer.from(body) }, 'canonical-json');

  it('integers above 2^53 keep their identity, and equal numbers spelt differently share one', () => {
    expect(print('{"id":9007199254740993}')).not.toBe(print('{"id":9007199254740992}'));
    expect(print('{"n":12345678901234567890123}')).not.toBe(print('{"n":12345678901234567890124}'));
    expect(print('{"x":0.1000000000000000055511151231257827}')).not.toBe(print('{"x":0.1}'));
    expect(print('{"a":1500,"b":[-0.5]}')).toBe(print('{"b":[-5e-1],"a":1.50e3}'));
    expect(print('{"a":1}')).toBe(print('{ "a" : 1.0 }'));
  });

  it('property: numbers are equal in the canonical form exactly when their decimal values are equal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -40, max: 40 }), fc.nat(5), (m, e, shift) => {
        const scaled = `${m * 10n ** BigInt(shift)}e${e - shift}`;
        expect(print(`[${m}e${e}]`)).toBe(print(`[${scaled}]`));
        expect(print(`[${m}e${e}]`)).not.toBe(print(`[${m + 1n}e${e}]`));
      }),
    );
  });

  it('a duplicate key with another value is refused as body-invalid, never fingerprinted like its last value', async () => {
    expect(() => print('{"amount":1,"amount":1000}')).toThrow(IdempotencyProblem);
    const engine = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, fingerprint: 'canonical-json' });
    const begin = await engine.begin({ method: 'POST', route: '/r', principal: 'p', key: 'k', body: Buffer.from('{"a":1,"a":2}') });
    expect(begin.kind === 'problem' && begin.problem.kind).toBe('body-invalid');
    const fields = new IdempotencyEngine({ store: new MemoryStore(), logger: quietLogger, fingerprint: { fields: ['a'] } });
    const picked = await fields.begin({ method: 'POST', route: '/r', principal: 'p', key: 'k', body: Buffer.from('{"a":1,"a":2}') });
    expect(picked.kind === 'problem' && picked.problem.kind).toBe('body-invalid');
  });

  it('canonicalJson of plain values agrees with the fingerprint of their JSON', () => {
    expect(canonicalJson({ b: 1500, a: [0.5, 'x'] })).toBe('{"a":[5e-1,"x"],"b":15e2}');
  });
});

describe('maxHoldMs', () => {
  it('after maxHoldMs the lease signal aborts with LeaseExpiredError and lost becomes true, as documented', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), leaseMs: 1000, heartbeatMs: 10, maxHoldMs: 30, logger: quietLogger });
    const begin = await engine.begin({ method: 'POST', route: '/r', principal: 'p', key: 'k', body: Buffer.alloc(0) });
    if (begin.kind !== 'execute') throw new Error(`expected execute, got ${begin.kind}`);
    await until(() => begin.lease.signal.aborted, 5000, 'the lease signal to abort');
    expect(begin.lease.lost).toBe(true);
    expect(begin.lease.signal.reason).toBeInstanceOf(LeaseExpiredError);
    expect(begin.lease.signal.reason).toBeInstanceOf(StaleLeaseError);
    expect(engine.metrics.leasesLost).toBe(1);
  });
});

describe('errors', () => {
  it('every error of the package shares the IdempotencyError base', () => {
    for (const error of [
      new IdempotencyProblem('key-missing', 'x'),
      new StoreUnavailableError('x'),
      new StaleLeaseError('s'),
      new LeaseExpiredError('s', 1),
      new PrincipalMissingError('POST /x', undefined),
    ]) {
      expect(error).toBeInstanceOf(IdempotencyError);
      expect(error).toBeInstanceOf(Error);
    }
  });
});
