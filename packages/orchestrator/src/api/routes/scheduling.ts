import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { QueenService } from '../../queen/service.js';
import type { WaitStatus } from '../../scheduler/explain.js';
import { ProblemError } from '../problem.js';
import { IdParams, problemResponses } from '../schemas.js';

/** A queen that can say why a job waits (the Queen class). */
export type WaitExplainer = { schedulingStatus(jobId: string): Promise<WaitStatus | undefined> };

const WaitStatusSchema = Type.Object(
  {
    job_id: Type.String(),
    state: Type.String(),
    waiting: Type.Boolean({ description: 'false once the job has started or ended' }),
    tenant: Type.Optional(
      Type.String({ description: "whose fair share it counts against (the request's tenant param, else the definition's)" }),
    ),
    reason: Type.Optional(
      Type.String({
        description: 'why it waits: "held: tenant acme at quota 10/10", "no ant has resources cpu=8", "queued: 12 jobs ahead"',
      }),
    ),
    held_by: Type.Optional(
      Type.String({ description: 'the scheduling plugin that held it, or queue, schedule, max_concurrency, capacity' }),
    ),
    ahead: Type.Optional(Type.Integer({ minimum: 0, description: 'jobs before it in queue order (counted up to 1,000)' })),
    estimated_start_at: Type.Optional(Type.String({ format: 'date-time', description: 'estimated start (ISO 8601)' })),
    retry_at: Type.Optional(Type.String({ format: 'date-time', description: 'when the scheduler looks at it again' })),
  },
  { additionalProperties: false },
);

export function waitStatusToWire(status: WaitStatus): Record<string, unknown> {
  return {
    job_id: status.jobId,
    state: status.state,
    waiting: status.waiting,
    ...(status.tenant !== undefined && { tenant: status.tenant }),
    ...(status.reason !== undefined && { reason: status.reason }),
    ...(status.heldBy !== undefined && { held_by: status.heldBy }),
    ...(status.ahead !== undefined && { ahead: status.ahead }),
    ...(status.estimatedStartAt !== undefined && { estimated_start_at: status.estimatedStartAt }),
    ...(status.retryAt !== undefined && { retry_at: status.retryAt }),
  };
}

/**
 * GET /jobs/requests/:id/scheduling: why a job waits and its estimated start (issue 13). `queen` is the caller's
 * view (one organisation's with authentication), so a job of another organisation is not found here either.
 */
export async function schedulingRoutes(app: FastifyInstance, queen: QueenService, explainer: Partial<WaitExplainer>): Promise<void> {
  app.get(
    '/jobs/requests/:id/scheduling',
    {
      schema: {
        summary: 'Why a job waits, and when it should start',
        tags: ['requests'],
        params: IdParams,
        response: { 200: WaitStatusSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await queen.getJob(id);
      const status = job && (await explainer.schedulingStatus?.(id));
      if (!job) throw new ProblemError('not-found', `no job request has the id '${id}'`);
      return waitStatusToWire(status ?? { jobId: id, state: job.state, waiting: job.state === 'PENDING' });
    },
  );
}
