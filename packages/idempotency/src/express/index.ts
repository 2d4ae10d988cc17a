import querystring from 'node:querystring';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { IdempotencyEngine } from '../core/engine.js';
import type { EngineOptions } from '../core/options.js';
import { IdempotencyProblem, PrincipalMissingError } from '../core/problem.js';
import { finish, type OutgoingResponse, problemResponse, replayResponse } from '../http/respond.js';
import { type Protected, track } from '../http/tracking.js';

export { idempotencyOf } from '../http/tracking.js';

export type ExpressIdempotencyOptions = (EngineOptions | { readonly engine: IdempotencyEngine }) & {
  /** Who owns the key, as the application authenticated it. Never a header the client controls. */
  readonly principal: (request: Request) => string | Promise<string>;
  /** The route template in the scope and fingerprint. Default: the matched route path, else the path. */
  readonly route?: (request: Request) => string;
  /** Largest request body read when no body parser ran before. Default 1 MiB. */
  readonly bodyLimit?: number;
};

type WithRawBody = Request & { rawBody?: Buffer; _body?: boolean };

/**
 * `express.json({ verify: keepRawBody })` (or urlencoded, text, raw) keeps the exact request bytes
 * for the fingerprint. Without a body parser in front, the middleware reads the body itself and
 * parses it as those parsers would.
 */
export function keepRawBody(request: unknown, _response: unknown, buffer: Buffer): void {
  (request as WithRawBody).rawBody = Buffer.from(buffer);
}

/**
 * Express middleware. Mount it on the routes to protect, after authentication:
 * `app.post('/payments', idempotencyMiddleware({ store, principal }), handler)`.
 */
export function idempotencyMiddleware(options: ExpressIdempotencyOptions): RequestHandler & { readonly engine: IdempotencyEngine } {
  if (options === null || typeof options !== 'object') throw new TypeError('idempotency options must be an object');
  if (typeof options.principal !== 'function') throw new TypeError('options.principal must be a function (request) => string');
  if (options.route !== undefined && typeof options.route !== 'function')
    throw new TypeError('options.route must be a function (request) => string');
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit <= 0)
    throw new RangeError(`options.bodyLimit must be a positive integer, got ${bodyLimit}`);
  const engine =
    'engine' in options && options.engine instanceof IdempotencyEngine ? options.engine : new IdempotencyEngine(options as EngineOptions);
  const routeOf =
    options.route ??
    ((request: Request) => request.baseUrl + (typeof request.route?.path === 'string' ? request.route.path : request.path));

  const middleware = async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    const key = request.headers['idempotency-key'];
    if (key === undefined && !engine.options.requiredMethods.has(request.method)) return next();
    try {
      const route = routeOf(request);
      const principal = await options.principal(request);
      if (typeof principal !== 'string' || principal === '') throw new PrincipalMissingError(`${request.method} ${route}`, principal);
      const body = await rawBody(request as WithRawBody, bodyLimit);
      const begin = await engine.begin({
        method: request.method,
        route,
        principal,
        key: Array.isArray(key) ? key.join(', ') : key,
        body,
      });
      switch (begin.kind) {
        case 'pass':
          return next();
        case 'unprotected':
          response.setHeader('idempotency-status', 'unprotected');
          return next();
        case 'problem':
          return write(response, problemResponse(engine, begin.problem));
        case 'replay':
          return write(response, replayResponse(begin.response));
        case 'execute':
          track(request, { key: begin.key, lease: begin.lease });
          capture(engine, response, { key: begin.key, lease: begin.lease });
          return next();
      }
    } catch (error) {
      if (error instanceof IdempotencyProblem) return write(response, problemResponse(engine, error));
      next(error);
    }
  };
  return Object.assign(middleware as RequestHandler, { engine });
}

async function rawBody(request: WithRawBody, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  if (request.body !== undefined || request._body) {
    throw new Error(
      'idempotency: the request body was parsed without keeping its bytes; use express.json({ verify: keepRawBody }) or mount the middleware before the body parser',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new IdempotencyProblem('body-invalid', `the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks, size);
  request.rawBody = bytes;
  if (bytes.length > 0) request.body = parseBody(request, bytes);
  // Tells body-parser the body is already read, so a parser mounted later does not wait for a
  // stream that has ended and leave `{}` behind.
  request._body = true;
  return bytes;
}

/**
 * Once the stream is read no parser after this middleware can read it again, so the body is parsed
 * here the way express.json(), urlencoded(), text() and raw() would (with their default options):
 * nothing the application mounts later gets an empty body.
 */
function parseBody(request: Request, bytes: Buffer): unknown {
  const type = request.is(['application/json', 'application/*+json', 'application/x-www-form-urlencoded', 'text/*']);
  if (type === 'application/x-www-form-urlencoded') return querystring.parse(bytes.toString(charsetOf(request)));
  if (type !== false && type !== null && type.startsWith('text/')) return bytes.toString(charsetOf(request));
  if (type === false || type === null) return bytes;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new IdempotencyProblem('body-invalid', `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

function charsetOf(request: Request): BufferEncoding {
  const charset = /charset=["']?([\w-]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  return charset === 'latin1' || charset === 'iso-8859-1' ? 'latin1' : charset === 'utf-16le' ? 'utf16le' : 'utf8';
}

/**
 * Holds back the response the handler writes until the key is recorded, so a client never sees
 * a result that a retry could not replay.
 */
function capture(engine: IdempotencyEngine, response: Response, state: Protected): void {
  const chunks: Buffer[] = [];
  const originalWrite = response.write;
  const originalEnd = response.end;
  const collect = (chunk: unknown, encoding: unknown): void => {
    if (chunk === undefined || chunk === null) return;
    chunks.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
    );
  };
  response.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    collect(chunk, encoding);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => done());
    return true;
  }) as Response['write'];
  response.end = ((chunk?: unknown, encoding?: unknown, callback?: unknown) => {
    if (typeof chunk === 'function') callback = chunk;
    else collect(chunk, encoding);
    if (typeof encoding === 'function') callback = encoding;
    response.write = originalWrite;
    response.end = originalEnd;
    const end = originalEnd.bind(response) as (chunk: Buffer, callback?: () => void) => void;
    const done = typeof callback === 'function' ? (callback as () => void) : undefined;
    const body = Buffer.concat(chunks);
    void finish(engine, state.lease, { status: response.statusCode, headers: response.getHeaders(), body }).then((outcome) => {
      if (response.headersSent) {
        // The handler flushed headers early (writeHead + flushHeaders); only the body is still ours.
        end(body, done);
      } else if (outcome.kind === 'send') {
        for (const [name, value] of Object.entries(outcome.extraHeaders)) response.setHeader(name, value);
        end(body, done);
      } else {
        response.removeHeader('content-length');
        write(response, outcome.response);
      }
    });
    return response;
  }) as Response['end'];
}

function write(response: Response, outgoing: OutgoingResponse): void {
  response.status(outgoing.status);
  for (const [name, value] of Object.entries(outgoing.headers)) response.setHeader(name, value);
  response.end(outgoing.body);
}
