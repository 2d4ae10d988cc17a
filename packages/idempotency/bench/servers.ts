import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IdempotencyEngine, type IdempotencyStore } from '@myrmex/idempotency';
import { idempotencyMiddleware, keepRawBody } from '@myrmex/idempotency/express';
import { idempotencyHooks } from '@myrmex/idempotency/fastify';
import { Idempotency } from '@node-idempotency/core';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import express, { type NextFunction, type Request, type Response } from 'express';
import { idempotency as expressIdempotency, getSharedIdempotencyService } from 'express-idempotency';
import Fastify from 'fastify';

export interface Running {
  readonly url: string;
  close(): Promise<void>;
}

const silent = { warn: () => undefined, error: () => undefined };
let ids = 0;
/** The work every variant does: answer the payment with a new id. */
const payment = (body: { amount: number; currency: string }) => ({ id: `pay_${++ids}`, amount: body.amount, currency: body.currency });

export async function fastifyServer(store: IdempotencyStore | undefined): Promise<Running> {
  const app = Fastify();
  const hooks = store ? idempotencyHooks({ engine: new IdempotencyEngine({ store, logger: silent }), principal: () => 'bench' }) : {};
  app.post<{ Body: { amount: number; currency: string } }>('/payments', { ...hooks }, async (request, reply) =>
    reply.code(201).send(payment(request.body)),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/payments`, close: () => app.close() };
}

type Variant = 'none' | 'myrmex' | 'express-idempotency' | '@node-idempotency/core';

export async function expressServer(variant: Variant, store?: IdempotencyStore): Promise<Running> {
  const app = express();
  const handler = (request: Request, response: Response) => {
    if (variant === 'express-idempotency' && getSharedIdempotencyService().isHit(request)) return;
    response.status(201).json(payment(request.body));
  };
  if (variant === 'none') app.post('/payments', express.json(), handler);
  if (variant === 'myrmex') {
    const protect = idempotencyMiddleware({ store: store!, logger: silent, principal: () => 'bench' });
    app.post('/payments', express.json({ verify: keepRawBody }), protect, handler);
  }
  if (variant === 'express-idempotency') app.post('/payments', express.json(), expressIdempotency(), handler);
  if (variant === '@node-idempotency/core') app.post('/payments', express.json(), nodeIdempotency(), handler);
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/payments`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * @node-idempotency/core has no Express package on npm (only core, storage adapters and NestJS),
 * so it is wired here the way its NestJS interceptor uses it: onRequest before the handler,
 * onResponse with the body the handler sends.
 */
function nodeIdempotency() {
  const idempotency = new Idempotency(new MemoryStorageAdapter(), { enforceIdempotency: true });
  return async (request: Request, response: Response, next: NextFunction) => {
    const params = { headers: request.headers, path: request.path, method: request.method, body: request.body };
    try {
      const cached = await idempotency.onRequest<unknown, unknown>(params);
      if (cached) {
        response.status(Number(cached.additional?.status ?? 200)).json(cached.body);
        return;
      }
    } catch (error) {
      response.status(409).json({ error: (error as Error).message });
      return;
    }
    const json = response.json.bind(response);
    response.json = (body: unknown) => {
      void idempotency.onResponse(params, { body, additional: { status: response.statusCode } }).then(() => json(body));
      return response;
    };
    next();
  };
}
