import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { BreakerState } from '../../domain/circuit-breaker.js';
import type { QueenService } from '../../queen/service.js';
import type { ConsumablePool } from '../../store/consumables.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';

/** A queen that keeps consumable pools and circuit breakers (the Queen class). */
export interface GuardKeeper {
  consumablePools(): Promise<readonly ConsumablePool[]>;
  declareConsumable(name: string, capacity: number): Promise<void>;
  circuitBreakers(): Promise<readonly BreakerState[]>;
}

const PoolSchema = Type.Object(
  {
    name: Type.String({ description: "the pool: a Formicary resource_type such as 'License'" }),
    capacity: Type.Integer({ minimum: 0 }),
    in_use: Type.Integer({ minimum: 0, description: 'units held by running tasks and unfinished jobs' }),
    holders: Type.Array(
      Type.Object(
        {
          job_id: Type.String(),
          task_type: Type.Optional(Type.String({ description: 'absent for units the job holds until it ends' })),
          units: Type.Integer({ minimum: 1 }),
          since: Type.String({ format: 'date-time' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const BreakerSchema = Type.Object(
  {
    host: Type.String({ description: 'host:port of the HTTP target' }),
    state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
    failures: Type.Integer({ minimum: 0, description: 'failures in a row' }),
    opened_at: Type.Optional(Type.String({ format: 'date-time' })),
    probe_until: Type.Optional(
      Type.String({ format: 'date-time', description: 'while half-open: the probe in flight holds the host until then' }),
    ),
    last_error: Type.Optional(Type.String()),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

const POOL_NAME = '^[A-Za-z][A-Za-z0-9_.\\-/]*$';

export function breakerToWire(b: BreakerState): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return Object.fromEntries(
    Object.entries({
      host: b.host,
      state: b.phase,
      failures: b.failures,
      opened_at: iso(b.openedAt),
      probe_until: b.phase === 'half_open' ? iso(b.probeUntil) : undefined,
      last_error: b.lastError,
      updated_at: iso(b.updatedAt),
    }).filter(([, v]) => v !== undefined),
  );
}

/**
 * GET /consumables, PUT /consumables/:name (admin), GET /circuit-breakers (issue 14): the shared
 * counters Formicary's `resources` take units from, and the HTTP breakers per host, as every queen
 * on the database sees them. Pools are the platform's: with authentication only a platform
 * administrator declares one, and an organisation sees the units in use but only its own jobs among
 * the holders (`queen` is the caller's view, in which another organisation's job is not found).
 */
export async function guardRoutes(app: FastifyInstance, keeper: Partial<GuardKeeper>, queen: QueenService): Promise<void> {
  app.get(
    '/consumables',
    {
      schema: {
        summary: 'Consumable resource pools: capacity, units in use and who holds them',
        tags: ['system'],
        response: { 200: Type.Array(PoolSchema) },
      },
    },
    async (request) => {
      const everyone = request.principal === undefined || request.principal.platformAdmin;
      const pools = (await keeper.consumablePools?.()) ?? [];
      return Promise.all(
        pools.map(async (p) => {
          const seen = everyone ? p.holders : await filterAsync(p.holders, async (h) => (await queen.getJob(h.jobId)) !== undefined);
          return {
            name: p.name,
            capacity: p.capacity,
            in_use: p.inUse,
            holders: seen.map((h) => ({
              job_id: h.jobId,
              ...(h.taskType === undefined ? {} : { task_type: h.taskType }),
              units: h.units,
              since: h.since.toISOString(),
            })),
          };
        }),
      );
    },
  );
  app.put(
    '/consumables/:name',
    {
      schema: {
        summary: "Declares a consumable pool's capacity (tasks waiting on it are looked at again)",
        tags: ['system'],
        params: Type.Object({ name: Type.String({ pattern: POOL_NAME, maxLength: 200 }) }, { additionalProperties: false }),
        body: Type.Object({ capacity: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problemResponses(400, 403, 409) },
      },
    },
    async (request, reply) => {
      if (!keeper.declareConsumable) throw new ProblemError('conflict', 'this queen keeps no consumable pools');
      if (request.principal !== undefined && !request.principal.platformAdmin) {
        throw new ProblemError(
          'forbidden',
          'declaring a consumable pool needs a platform administrator: every organisation shares the pools',
        );
      }
      const { name } = request.params as { name: string };
      await keeper.declareConsumable(name, (request.body as { capacity: number }).capacity);
      return reply.code(204).send();
    },
  );
  app.get(
    '/circuit-breakers',
    {
      schema: {
        summary: 'HTTP circuit breakers per target host, shared by the queens',
        tags: ['system'],
        response: { 200: Type.Array(BreakerSchema) },
      },
    },
    async () => ((await keeper.circuitBreakers?.()) ?? []).map(breakerToWire),
  );
}

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept = await Promise.all(items.map(keep));
  return items.filter((_, i) => kept[i]);
}
