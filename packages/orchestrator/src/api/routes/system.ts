import type { FastifyInstance } from 'fastify';
import type { QueenService } from '../../queen/service.js';
import { AntListSchema, HealthRef } from '../schemas.js';
import { antToWire } from '../wire.js';

export async function systemRoutes(app: FastifyInstance, queen: QueenService, version: string): Promise<void> {
  app.get(
    '/ants',
    {
      schema: {
        summary: 'The ants (workers) with their methods, tags, capacity and load',
        tags: ['system'],
        response: { 200: AntListSchema },
      },
    },
    async () => ({ items: (await queen.ants()).map(antToWire) }),
  );

  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness of the queen and its store; 503 when not ok',
        tags: ['system'],
        response: { 200: HealthRef, 503: HealthRef },
      },
    },
    async (_request, reply) => {
      const health = await queen.health();
      reply.code(health.ok ? 200 : 503);
      return { ok: health.ok, store: health.store, uptime_ms: health.uptimeMs, version };
    },
  );
}
