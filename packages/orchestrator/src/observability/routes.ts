import type { FastifyInstance } from 'fastify';
import type { QueenService } from '../queen/service.js';
import { type ReadinessOptions, readiness } from './health.js';
import type { OrchestratorMetrics } from './metrics.js';
import { enterTraceparent } from './tracing.js';

export interface ObservabilityRouteOptions {
  readonly queen: QueenService;
  readonly metrics?: OrchestratorMetrics;
  readonly readiness?: ReadinessOptions;
}

/** GET /metrics (Prometheus text), /healthz (the process answers) and /readyz (it can do its work, or what is wrong). */
export async function observabilityRoutes(app: FastifyInstance, options: ObservabilityRouteOptions): Promise<void> {
  const hidden = { schema: { hide: true } };
  // Every request (this plugin's hooks reach the /api routes too): a submission's traceparent is kept for the job it creates.
  app.addHook('onRequest', async (request) => {
    const header = request.headers.traceparent;
    enterTraceparent(Array.isArray(header) ? header[0] : header);
  });
  const { metrics } = options;
  if (metrics) {
    app.get('/metrics', hidden, async (_request, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.text();
    });
  }
  app.get('/healthz', hidden, async () => ({ status: 'ok', uptime_s: Math.round(process.uptime()) }));
  app.get('/readyz', hidden, async (_request, reply) => {
    const result = await readiness(options.queen, options.readiness);
    reply.code(result.ready ? 200 : 503);
    return result;
  });
}
