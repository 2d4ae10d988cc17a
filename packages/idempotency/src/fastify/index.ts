import { Readable } from 'node:stream';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onResponseAsyncHookHandler,
  onSendAsyncHookHandler,
  preHandlerAsyncHookHandler,
  preParsingAsyncHookHandler,
} from 'fastify';
import { IdempotencyEngine } from '../core/engine.js';
import type { EngineOptions } from '../core/options.js';
import { PrincipalMissingError } from '../core/problem.js';
import { finish, finishUnbuffered, type OutgoingResponse, problemResponse, replayResponse } from '../http/respond.js';
import { idempotencyOf, type Protected, track } from '../http/tracking.js';

export { idempotencyOf } from '../http/tracking.js';

export type FastifyIdempotencyOptions = (EngineOptions | { readonly engine: IdempotencyEngine }) & {
  /**
   * Who owns the key: the authenticated user or tenant, as the application resolved it. Keys of
   * different principals never collide. Never derive it from a header the client controls.
   */
  readonly principal: (request: FastifyRequest) => string | Promise<string>;
};

export interface IdempotencyHooks {
  readonly preParsing: preParsingAsyncHookHandler;
  readonly preHandler: preHandlerAsyncHookHandler;
  readonly onSend: onSendAsyncHookHandler<unknown>;
  readonly onResponse: onResponseAsyncHookHandler;
}

const rawBodies = new WeakMap<FastifyRequest, Buffer>();
/** Requests whose idempotency preHandler ran, to catch a route whose own preHandler replaced it. */
const checked = new WeakSet<FastifyRequest>();
const EMPTY = Buffer.alloc(0);

/**
 * Route-level hooks. Give them to a route with `withIdempotency(hooks, routeOptions)`, which keeps
 * the route's own hooks (authentication) and runs them first. The engine (and its metrics) is
 * shared by every route given these hooks.
 */
export function idempotencyHooks(options: FastifyIdempotencyOptions): IdempotencyHooks & { readonly engine: IdempotencyEngine } {
  if (options === null || typeof options !== 'object') throw new TypeError('idempotency options must be an object');
  if (typeof options.principal !== 'function') throw new TypeError('options.principal must be a function (request) => string');
  const engine =
    'engine' in options && options.engine instanceof IdempotencyEngine ? options.engine : new IdempotencyEngine(options as EngineOptions);
  const { principal } = options;
  const warnedRoutes = new Set<string>();

  const covered = (request: FastifyRequest): boolean =>
    (request.routeOptions.config as { idempotency?: boolean } | undefined)?.idempotency !== false &&
    (request.headers['idempotency-key'] !== undefined || engine.options.requiredMethods.has(request.method));

  const hooks: IdempotencyHooks = {
    async preParsing(request, _reply, payload) {
      if (!covered(request)) return payload;
      const body = await readBounded(payload, request.routeOptions.bodyLimit ?? 1024 * 1024);
      rawBodies.set(request, body);
      return Object.assign(Readable.from([body]), { receivedEncodedLength: body.length });
    },
    async preHandler(request, reply) {
      if (!covered(request)) return;
      checked.add(request);
      const route = request.routeOptions.url ?? request.url;
      const who = await principal(request);
      if (typeof who !== 'string' || who === '') throw new PrincipalMissingError(`${request.method} ${route}`, who);
      const begin = await engine.begin({
        method: request.method,
        route,
        principal: who,
        key: headerValue(request.headers['idempotency-key']),
        body: rawBodies.get(request) ?? EMPTY,
      });
      switch (begin.kind) {
        case 'pass':
          return;
        case 'unprotected':
          reply.header('idempotency-status', 'unprotected');
          return;
        case 'problem':
          return send(reply, problemResponse(engine, begin.problem));
        case 'replay':
          return send(reply, replayResponse(begin.response));
        case 'execute':
          track(request, { key: begin.key, lease: begin.lease });
          return;
      }
    },
    async onSend(request, reply, payload) {
      if (covered(request) && !checked.has(request) && reply.statusCode < 400) warnUnprotected(engine, request, warnedRoutes);
      const state = idempotencyOf(request);
      if (!state || (state.lease.settled && !state.lease.lost && !state.lease.refusal)) return payload;
      const body = toBuffer(payload);
      if (body === undefined && !state.lease.lost) {
        reply.headers(await finishUnbuffered(engine, state.lease));
        return payload;
      }
      const outcome = await finish(engine, state.lease, { status: reply.statusCode, headers: reply.getHeaders(), body: body ?? EMPTY });
      if (outcome.kind === 'send') {
        reply.headers(outcome.extraHeaders);
        return payload;
      }
      reply.removeHeader('content-length');
      reply.code(outcome.response.status).headers(outcome.response.headers);
      return outcome.response.body;
    },
    async onResponse(request) {
      await release(engine, idempotencyOf(request));
    },
  };
  // Not enumerable, so spreading or iterating the hooks sees only the four of them.
  return Object.defineProperty(hooks, 'engine', { value: engine, enumerable: false }) as IdempotencyHooks & {
    readonly engine: IdempotencyEngine;
  };
}

/**
 * The plugin form. Register it inside the encapsulated scope that holds the routes to protect:
 * `app.register(async (scope) => { await scope.register(idempotency, options); scope.post(...) })`.
 * A route in that scope opts out with `config: { idempotency: false }`.
 */
export const idempotency = Object.assign(
  async function idempotency(instance: FastifyInstance, options: FastifyIdempotencyOptions): Promise<void> {
    const hooks = idempotencyHooks(options);
    instance.addHook('preParsing', hooks.preParsing);
    instance.addHook('preHandler', hooks.preHandler);
    instance.addHook('onSend', hooks.onSend);
    instance.addHook('onResponse', hooks.onResponse);
  },
  // What fastify-plugin sets: the hooks land in the scope that registers the plugin, not in a
  // child scope of their own that no route would ever be in.
  { [Symbol.for('skip-override')]: true },
);

/** The options a route accepts hooks in: each a function or an array of them. */
type HookList<T> = T | T[] | undefined;
export interface RouteHookOptions {
  preParsing?: HookList<preParsingAsyncHookHandler>;
  preHandler?: HookList<preHandlerAsyncHookHandler>;
  onSend?: HookList<onSendAsyncHookHandler<unknown>>;
  onResponse?: HookList<onResponseAsyncHookHandler>;
}

/** Route options after withIdempotency: every idempotency hook is in a list with the route's own. */
export type WithIdempotency<T> = Omit<T, keyof IdempotencyHooks> & {
  preParsing: preParsingAsyncHookHandler[];
  preHandler: preHandlerAsyncHookHandler[];
  onSend: onSendAsyncHookHandler<unknown>[];
  onResponse: onResponseAsyncHookHandler[];
};

export function withIdempotency<T extends object = RouteHookOptions>(
  hooks: IdempotencyHooks,
  routeOptions: T = {} as T,
): WithIdempotency<T> {
  if (hooks === null || typeof hooks !== 'object' || typeof hooks.preHandler !== 'function') {
    throw new TypeError('withIdempotency(hooks, routeOptions): hooks must come from idempotencyHooks(options)');
  }
  if (routeOptions === null || typeof routeOptions !== 'object') throw new TypeError('withIdempotency: routeOptions must be an object');
  const own = routeOptions as RouteHookOptions;
  const merged: Record<string, unknown> = { ...(routeOptions as Record<string, unknown>) };
  for (const name of ['preParsing', 'preHandler', 'onSend', 'onResponse'] as const) {
    const mine = own[name];
    merged[name] = [...(mine === undefined ? [] : Array.isArray(mine) ? mine : [mine]), hooks[name]];
  }
  return merged as WithIdempotency<T>;
}

function warnUnprotected(engine: IdempotencyEngine, request: FastifyRequest, warnedRoutes: Set<string>): void {
  const route = `${request.method} ${request.routeOptions.url}`;
  if (warnedRoutes.has(route)) return;
  warnedRoutes.add(route);
  engine.options.logger.error(
    { route: request.routeOptions.url },
    "idempotency preHandler never ran on this route: the route's own preHandler replaced it, so requests run unprotected; use withIdempotency(hooks, routeOptions)",
  );
}

async function release(engine: IdempotencyEngine, state: Protected | undefined): Promise<void> {
  if (!state || state.lease.settled) return;
  try {
    await state.lease.release();
  } catch (error) {
    engine.options.logger.error({ scope: state.lease.scope, error: String(error) }, 'release after an unfinished response failed');
  }
}

function send(reply: FastifyReply, response: OutgoingResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  // Two Idempotency-Key headers are joined, which makes the value malformed: ambiguity is rejected.
  return Array.isArray(value) ? value.join(', ') : value;
}

function toBuffer(payload: unknown): Buffer | undefined {
  if (payload === null || payload === undefined) return EMPTY;
  if (typeof payload === 'string') return Buffer.from(payload);
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return undefined;
}

async function readBounded(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > limit) {
      throw Object.assign(new Error(`request body is larger than ${limit} bytes`), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}
