import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { type AuthenticateAnt, bearerToken } from '../../ant/remote/auth.js';
import type { RemoteAntHub } from '../../ant/remote/hub.js';
import { ANT_SOCKET_PATH, CLOSE } from '../../ant/remote/wire.js';

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
        const token = bearerToken(request.headers.authorization);
        const principal = token === undefined ? undefined : await options.authenticateAnt(token);
        if (!principal) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="myrmex-ants"')
            .send({ detail: token === undefined ? 'an ant token is required (Authorization: Bearer)' : 'the ant token is not valid' });
        }
        (request as { antPrincipal?: unknown }).antPrincipal = principal;
      },
    },
    (socket, request) => {
      options.hub.accept(socket, (request as unknown as { antPrincipal: Parameters<RemoteAntHub['accept']>[1] }).antPrincipal);
    },
  );
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
