import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { visibleJobType, visibleJobTypeOf } from '../../domain/job-type-names.js';
import type { DeadLetterPage, Redriven } from '../../queen/events.js';
import type { WebhookDelivery, WebhookOutcome } from '../../queen/webhooks.js';
import type { SecurityStore } from '../../store/security.js';
import type { NotificationRow } from '../../store/workflow-events.js';
import { ProblemError } from '../problem.js';
import { IdParams, problemResponses } from '../schemas.js';
import { jobSummaryToWire } from '../wire.js';

/** A queen that takes webhooks, keeps notifications and dead letters (the Queen class on a SQL store). */
export interface EventService {
  webhook(delivery: WebhookDelivery): Promise<WebhookOutcome>;
  deadLetters(query: { readonly org?: string; readonly limit?: number; readonly before?: number }): Promise<DeadLetterPage>;
  redrive(jobId: string): Promise<Redriven>;
  notifications(jobId: string): Promise<readonly NotificationRow[]>;
}

const Free = Type.Record(Type.String(), Type.Unknown());
const WebhookAnswer = Type.Object(
  {
    job_type: Type.String(),
    trigger: Type.String(),
    job_id: Type.Optional(Type.String({ description: 'the job the delivery started' })),
    delivery_id: Type.Optional(Type.String({ description: 'the dedup_key, or the delivery id header, that names the event' })),
    filtered: Type.Optional(Type.Boolean({ description: 'true: the filter did not render to "true", no job' })),
  },
  { additionalProperties: false },
);

function headersOf(request: FastifyRequest): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(request.headers).map(([key, value]) => [key.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]),
  );
}

function answer(reply: FastifyReply, outcome: WebhookOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'created':
      reply.code(202);
      return {
        job_type: visibleJobType(outcome.jobType),
        trigger: outcome.trigger,
        job_id: outcome.jobId,
        ...(outcome.deliveryId === undefined ? {} : { delivery_id: outcome.deliveryId }),
      };
    case 'filtered':
      reply.code(202);
      return { job_type: visibleJobType(outcome.jobType), trigger: outcome.trigger, filtered: true };
    case 'not_found':
      throw new ProblemError('not-found', outcome.detail);
    case 'unauthenticated':
      throw new ProblemError('invalid-signature', outcome.detail);
    case 'duplicate':
      throw new ProblemError(
        'duplicate-delivery',
        `event '${outcome.deliveryId}' of trigger '${outcome.trigger}' was already delivered: it started job ${outcome.jobId}`,
      );
    case 'rate_limited':
      reply.header('retry-after', String(outcome.retryAfterS));
      throw new ProblemError('rate-limited', outcome.detail);
    case 'unprocessable':
      throw new ProblemError('trigger-template', outcome.detail);
  }
}

const notificationToWire = (row: NotificationRow) => ({
  channel: row.channel,
  recipient: row.recipient,
  state: row.state,
  attempts: row.attempts,
  ...(row.lastError === undefined ? {} : { last_error: row.lastError }),
  created_at: row.createdAt.toISOString(),
  ...(row.sentAt === undefined ? {} : { sent_at: row.sentAt.toISOString() }),
});

/**
 * Webhook triggers (POST /webhooks/<job_type-or-name>[/<name>], and Formicary's /triggers/<job_type>/<name>),
 * authenticated by their HMAC signature rather than a token; the dead-letter list and its redrive; a
 * job's notifications. Under authentication a caller sees its organisation's dead letters only.
 */
export async function eventRoutes(app: FastifyInstance, events: Partial<EventService>, security?: SecurityStore): Promise<void> {
  const { webhook, deadLetters, redrive, notifications } = events;
  if (webhook === undefined || deadLetters === undefined || redrive === undefined || notifications === undefined) return;

  await app.register(async (scope) => {
    // The signature is over the bytes as sent: the body is kept raw, whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    const deliver = async (request: FastifyRequest, reply: FastifyReply) => {
      const params = request.params as { target: string; name?: string };
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const outcome = await webhook.call(events, {
        target: params.target,
        ...(params.name === undefined ? {} : { name: params.name }),
        body,
        headers: headersOf(request),
        query: Object.fromEntries(Object.entries((request.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
      });
      return answer(reply, outcome);
    };
    const schema = (summary: string) => ({
      summary,
      tags: ['triggers'],
      response: { 202: WebhookAnswer, ...problemResponses(401, 404, 409, 422, 429) },
    });
    const config = { auth: 'self' as const };
    scope.post(
      '/webhooks/:target',
      { config, schema: schema('A webhook delivery to a job type (its one webhook trigger) or a trigger name') },
      deliver,
    );
    scope.post('/webhooks/:target/:name', { config, schema: schema("A webhook delivery to a job type's named trigger") }, deliver);
    scope.post('/triggers/:target/:name', { config, schema: schema("Formicary's route for the same delivery") }, deliver);
  });

  app.get(
    '/dead-letters',
    {
      schema: {
        summary: 'Jobs that failed with their retries used up, newest first, with what each was redriven as',
        tags: ['requests'],
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            before: Type.Optional(Type.Integer({ minimum: 1, description: 'next_before of the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Free, ...problemResponses(400) },
      },
    },
    async (request) => {
      const query = request.query as { limit?: number; before?: number };
      const org = request.principal?.orgId;
      const page = await deadLetters.call(events, { ...query, ...(org === undefined ? {} : { org }) });
      return {
        items: page.items.map((item) => ({
          ...jobSummaryToWire(visibleJobTypeOf(item.job)),
          ...(item.redrivenAs === undefined ? {} : { redriven_as: item.redrivenAs }),
        })),
        ...(page.nextBefore === undefined ? {} : { next_before: page.nextBefore }),
      };
    },
  );

  app.post(
    '/dead-letters/:id/redrive',
    {
      schema: {
        summary: 'Run a dead letter again as a new job (once), linked to it',
        tags: ['requests'],
        params: IdParams,
        response: { 201: Free, ...problemResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const principal = request.principal;
      if (principal !== undefined && security !== undefined && (await security.jobOrg(id)) !== principal.orgId) {
        throw new ProblemError('not-found', `no job request has the id '${id}'`);
      }
      const { original, job } = await redrive.call(events, id);
      reply.code(201);
      return { original: jobSummaryToWire(visibleJobTypeOf(original)), job: jobSummaryToWire(visibleJobTypeOf(job)) };
    },
  );

  app.get(
    '/jobs/requests/:id/notifications',
    {
      schema: {
        summary: "The job's notifications (notify, job webhook): recipient, state, attempts, last error",
        tags: ['requests'],
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(Free) }), ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return { items: (await notifications.call(events, id)).map(notificationToWire) };
    },
  );
}
