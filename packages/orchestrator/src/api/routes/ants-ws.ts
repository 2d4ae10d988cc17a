import type { Readable } from 'node:stream';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AntPrincipal, type AuthenticateAnt, bearerToken, servedAntId } from '../../ant/remote/auth.js';
import { AntArtifactDepot, DepotError } from '../../ant/remote/depot.js';
import type { RemoteAntHub } from '../../ant/remote/hub.js';
import { ANT_ARTIFACTS_PATH, ANT_SOCKET_PATH, CLOSE } from '../../ant/remote/wire.js';
import type { BlobStore } from '../../artifacts/store.js';
import type { Masker } from '../../security/masking.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `self`: the route checks its own credentials (the ants' WebSocket); the API's auth hook leaves it alone. */
    auth?: 'self';
  }
}

export interface AntSocketOptions {
  readonly hub: RemoteAntHub;
  /** Checks the upgrade's bearer token (scope `ant`); without it the route is not served. */
  readonly authenticateAnt: AuthenticateAnt;
  /** Asks an ant to drain (whichever queen it is connected to). */
  readonly drain: (antId: string) => Promise<void>;
  /** Largest frame accepted from an ant (default 4 MiB): a result's outputs or a log batch. */
  readonly maxPayload?: number;
  /** The queen's blob store: with it, ants upload their attempts' artifacts and download their dependencies' (ANT_ARTIFACTS_PATH). */
  readonly blobs?: BlobStore;
  /** Largest artifact file an ant may upload (default 1 GiB). */
  readonly maxArtifactBytes?: number;
  /** The masker of a job's organisation's secrets: uploaded text artifacts are stored masked. */
  readonly masker?: (jobId: string) => Promise<Masker | undefined>;
}

/** The ant's principal from the bearer token, or undefined after answering 401. */
async function principalOf(request: FastifyRequest, reply: FastifyReply, authenticate: AuthenticateAnt): Promise<AntPrincipal | undefined> {
  const token = bearerToken(request.headers.authorization);
  const principal = token === undefined ? undefined : await authenticate(token);
  if (!principal) {
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="myrmex-ants"')
      .send({ detail: token === undefined ? 'an ant token is required (Authorization: Bearer)' : 'the ant token is not valid' });
  }
  return principal;
}

/**
 * Remote ants: the WebSocket they connect to on the queen's own port (TLS when the queen has it),
 * with the token checked before the upgrade, and `POST /api/ants/:id/drain`.
 */
export async function antSocketRoutes(app: FastifyInstance, options: AntSocketOptions): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: options.maxPayload ?? 4 * 1024 * 1024 },
    // Ants told the queen is going away reconnect to another one at once.
    preClose(done) {
      for (const client of app.websocketServer.clients) client.close(CLOSE.goingAway, 'queen shutting down');
      app.websocketServer.close();
      done();
    },
  });
  app.get(
    ANT_SOCKET_PATH,
    {
      websocket: true,
      schema: { hide: true },
      config: { auth: 'self' },
      // Refused before the upgrade: a bad token never gets a socket.
      preValidation: async (request, reply) => {
        const principal = await principalOf(request, reply, options.authenticateAnt);
        if (principal) (request as { antPrincipal?: unknown }).antPrincipal = principal;
      },
    },
    (socket, request) => {
      options.hub.accept(socket, (request as unknown as { antPrincipal: Parameters<RemoteAntHub['accept']>[1] }).antPrincipal);
    },
  );
  if (options.blobs) {
    await antArtifactRoutes(app, {
      hub: options.hub,
      authenticateAnt: options.authenticateAnt,
      blobs: options.blobs,
      ...(options.maxArtifactBytes === undefined ? {} : { maxBytes: options.maxArtifactBytes }),
      ...(options.masker && { masker: options.masker }),
    });
  }
  app.post<{ Params: { id: string } }>(
    '/api/ants/:id/drain',
    {
      schema: {
        summary:
          'Asks a remote ant to drain: it stops taking work, finishes what runs (or cancels it after its grace period) and disconnects',
        tags: ['system'],
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id'] },
      },
    },
    async (request, reply) => {
      // An unknown id is the queen's not_found error, rendered as a 404 problem.
      await options.drain(request.params.id);
      reply.code(202);
      return { id: request.params.id, drain: 'requested' };
    },
  );
}

interface AttemptParams {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
}

const attemptParams = {
  type: 'object',
  properties: {
    jobId: { type: 'string', minLength: 1, maxLength: 200 },
    taskType: { type: 'string', minLength: 1, maxLength: 200 },
    attempt: { type: 'integer', minimum: 1 },
  },
  required: ['jobId', 'taskType', 'attempt'],
} as const;

/**
 * Remote ants' artifacts, over HTTP(S) with the ant token: `PUT <attempt>?path=&mode=[&expires_at=]`
 * streams one file of the attempt into the blob store (200 `{ digest, size, stored }` is the
 * acknowledgement); with `X-Myrmex-Offset` and `X-Myrmex-Size` the body is the file's bytes from that
 * offset on, resuming an upload that was cut (`GET <attempt>/uploads?path=&digest=` says how much the
 * queen holds: `{ offset, complete }`; a wrong offset gets 416). `GET <attempt>/blobs/<digest>`
 * streams a file of the same job to the ant.
 * `X-Myrmex-Ant` names the ant, which must hold the attempt (and match a token bound to an ant id).
 */
export async function antArtifactRoutes(
  app: FastifyInstance,
  options: {
    readonly hub: RemoteAntHub;
    readonly authenticateAnt: AuthenticateAnt;
    readonly blobs: BlobStore;
    readonly maxBytes?: number;
    readonly masker?: AntSocketOptions['masker'];
  },
): Promise<void> {
  const depot = new AntArtifactDepot({
    store: options.hub.options.store,
    blobs: options.blobs,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.masker && { masker: options.masker }),
  });
  /** The ant the request speaks for, or undefined after answering. */
  const antOf = async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const principal = await principalOf(request, reply, options.authenticateAnt);
    if (!principal) return undefined;
    const antId = request.headers['x-myrmex-ant'];
    if (typeof antId !== 'string' || antId === '') {
      await reply.code(400).send({ detail: 'x-myrmex-ant: the header naming the ant is required' });
      return undefined;
    }
    if (principal.antId !== undefined && principal.antId !== antId) {
      await reply.code(403).send({ detail: `this token is for ant '${principal.antId}', not '${antId}'` });
      return undefined;
    }
    return servedAntId(principal, antId);
  };
  const failed = (reply: FastifyReply, error: unknown) => {
    if (error instanceof DepotError) return reply.code(error.status).send({ detail: error.message });
    throw error;
  };
  // Which file of the attempt, and whether it is the task's cache rather than an artifact: both upload routes name it so.
  const artifactQuery = { path: { type: 'string', minLength: 1, maxLength: 4096 }, cache: { type: 'boolean' } } as const;
  // Encapsulated: the raw-stream body parser applies to these routes only.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    scope.put<{ Params: AttemptParams; Querystring: { path: string; mode: number; expires_at?: number; cache?: boolean } }>(
      `${ANT_ARTIFACTS_PATH}/:jobId/:taskType/:attempt`,
      {
        config: { auth: 'self' },
        schema: {
          hide: true,
          params: attemptParams,
          querystring: {
            type: 'object',
            properties: {
              ...artifactQuery,
              mode: { type: 'integer', minimum: 0, maximum: 0o777 },
              expires_at: { type: 'integer', minimum: 0 },
            },
            required: ['path', 'mode'],
          },
        },
      },
      async (request, reply) => {
        const antId = await antOf(request, reply);
        if (antId === undefined) return reply;
        const length = Number(request.headers['content-length']);
        const header = (name: string) => {
          const value = request.headers[name];
          return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
        };
        const offset = header('x-myrmex-offset');
        const size = header('x-myrmex-size');
        try {
          return await depot.receive(
            antId,
            {
              ...request.params,
              path: request.query.path,
              mode: request.query.mode,
              ...(request.query.expires_at === undefined ? {} : { expiresAt: request.query.expires_at }),
              ...(request.query.cache === true && { cache: true }),
              digest: String(request.headers['x-myrmex-digest'] ?? ''),
              ...(Number.isSafeInteger(length) ? { length } : {}),
              ...(offset === undefined ? {} : { offset }),
              ...(size === undefined ? {} : { size }),
            },
            request.body as Readable,
          );
        } catch (error) {
          return failed(reply, error);
        }
      },
    );
    scope.get<{ Params: AttemptParams; Querystring: { path: string; digest: string; cache?: boolean } }>(
      `${ANT_ARTIFACTS_PATH}/:jobId/:taskType/:attempt/uploads`,
      {
        config: { auth: 'self' },
        schema: {
          hide: true,
          params: attemptParams,
          querystring: {
            type: 'object',
            properties: { ...artifactQuery, digest: { type: 'string', maxLength: 100 } },
            required: ['path', 'digest'],
          },
        },
      },
      async (request, reply) => {
        const antId = await antOf(request, reply);
        if (antId === undefined) return reply;
        try {
          const { path, digest, cache } = request.query;
          return await depot.uploaded(antId, { ...request.params, path, digest, ...(cache === true && { cache: true }) });
        } catch (error) {
          return failed(reply, error);
        }
      },
    );
    scope.get<{ Params: AttemptParams & { digest: string } }>(
      `${ANT_ARTIFACTS_PATH}/:jobId/:taskType/:attempt/blobs/:digest`,
      {
        config: { auth: 'self' },
        schema: {
          hide: true,
          params: { ...attemptParams, properties: { ...attemptParams.properties, digest: { type: 'string', maxLength: 100 } } },
        },
      },
      async (request, reply) => {
        const antId = await antOf(request, reply);
        if (antId === undefined) return reply;
        const { jobId, taskType, attempt, digest } = request.params;
        try {
          const content = await depot.open(antId, jobId, taskType, attempt, digest);
          return reply.header('content-type', 'application/octet-stream').send(content);
        } catch (error) {
          return failed(reply, error);
        }
      },
    );
  });
}
