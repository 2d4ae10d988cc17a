import fastifyStatic from '@fastify/static';
import { dashboardBuilt, dashboardDir } from '@myrmex/dashboard';
import type { FastifyInstance } from 'fastify';

/** The web dashboard at `/`, beside /api on the same port; a page saying how to build it when it is missing. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  if (!dashboardBuilt()) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>Myrmex</title><p>The dashboard is not built: run <code>npm run build -w packages/dashboard</code> ' +
            '(<code>npm ci</code> does it), then restart the queen. The API is at <a href="/api/openapi.json">/api</a>.</p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, { root: dashboardDir, prefix: '/', wildcard: false, index: 'index.html' });
}
