import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { parseQuotaLimit, QUOTA_PERIODS, QUOTA_RESOURCES, QuotaInputError, type QuotaUsage } from '../../security/quotas.js';
import type { QuotaStore } from '../../store/quotas.js';
import type { SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';

const Resource = Type.Union(QUOTA_RESOURCES.map((r) => Type.Literal(r)));
const Period = Type.Union(QUOTA_PERIODS.map((p) => Type.Literal(p)));
const Bound = Type.Union([Type.Number({ minimum: 0 }), Type.Null()]);
const SetQuotaBody = Type.Object(
  {
    resource: Resource,
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "a member's own limit; absent: the organisation's" })),
    hard: Type.Optional(Bound),
    soft: Type.Optional(Bound),
    period: Type.Optional(Type.Union([Period, Type.Null()])),
  },
  { additionalProperties: false },
);
const QuotaSchema = Type.Object({
  resource: Resource,
  user: Type.Optional(Type.String()),
  hard: Type.Optional(Type.Number()),
  soft: Type.Optional(Type.Number()),
  period: Type.Optional(Period),
  used: Type.Number({ description: 'running jobs now, CPU-hours or artifact bytes in the current period' }),
  period_start: Type.Optional(Type.String({ format: 'date-time' })),
  period_end: Type.Optional(Type.String({ format: 'date-time' })),
});

function orgOf(request: FastifyRequest): string {
  if (!request.principal) throw new ProblemError('unauthenticated', 'this route needs an API token');
  return request.principal.orgId;
}

function usageToWire(usage: QuotaUsage) {
  return {
    resource: usage.resource,
    ...(usage.user !== undefined && { user: usage.user }),
    ...(usage.hard !== undefined && { hard: usage.hard }),
    ...(usage.soft !== undefined && { soft: usage.soft }),
    ...(usage.period !== undefined && { period: usage.period }),
    used: usage.used,
    ...(usage.periodStart !== undefined && { period_start: new Date(usage.periodStart).toISOString() }),
    ...(usage.periodEnd !== undefined && { period_end: new Date(usage.periodEnd).toISOString() }),
  };
}

/**
 * Quotas of the caller's organisation and its members (issue 17): every member reads them with their
 * usage, an admin sets them. Running jobs are checked at admission on every queen, CPU-hours per
 * period at admission, artifact storage at upload.
 */
export async function quotaRoutes(app: FastifyInstance, security: SecurityStore, quotas: QuotaStore): Promise<void> {
  app.get(
    '/quotas',
    {
      schema: {
        summary: "The organisation's and its members' quotas (running jobs, CPU-hours, artifact bytes) with their usage",
        tags: ['security'],
        response: { 200: Type.Object({ org: Type.String(), items: Type.Array(QuotaSchema) }), ...problemResponses(401, 403) },
      },
    },
    async (request) => {
      const org = orgOf(request);
      return { org, items: (await quotas.usage(org, Date.now())).map(usageToWire) };
    },
  );

  app.put(
    '/quotas',
    {
      schema: {
        summary: 'Set (or, with neither hard nor soft, remove) a quota of the organisation or of one member',
        tags: ['security'],
        body: SetQuotaBody,
        response: { 200: QuotaSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const org = orgOf(request);
      let limit: ReturnType<typeof parseQuotaLimit>;
      try {
        limit = parseQuotaLimit(org, request.body);
      } catch (error) {
        if (error instanceof QuotaInputError) {
          throw new ProblemError('validation-error', error.message, [{ field: error.field, in: 'body', message: error.message }]);
        }
        throw error;
      }
      if (limit.user !== undefined && (await security.role(org, limit.user)) === undefined) {
        throw new ProblemError('not-found', `user '${limit.user}' is not a member of this organisation`);
      }
      await quotas.setLimit(limit, new Date());
      const now = Date.now();
      const set = (await quotas.usage(org, now)).find((u) => u.resource === limit.resource && u.user === limit.user);
      return usageToWire(set ?? { ...limit, used: 0 });
    },
  );
}
