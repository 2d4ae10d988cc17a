import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type Keyring, MIN_SECRET_LENGTH } from '../../security/index.js';
import { secretContext } from '../../store/secret-source.js';
import type { SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';

const NameParams = Type.Object({ name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }) }, { additionalProperties: false });
const SecretBody = Type.Object(
  { value: Type.String({ minLength: MIN_SECRET_LENGTH, maxLength: 64 * 1024 }) },
  { additionalProperties: false },
);

function orgOf(request: FastifyRequest): string {
  if (!request.principal) throw new ProblemError('unauthenticated', 'this route needs an API token');
  return request.principal.orgId;
}

/**
 * The organisation's secrets: written sealed under the keyring, listed by name only. No route ever
 * returns a value: tasks get them at run time through `{{.Secrets.NAME}}`.
 */
export async function secretRoutes(app: FastifyInstance, security: SecurityStore, keyring: Keyring | undefined): Promise<void> {
  app.put(
    '/secrets/:name',
    {
      schema: {
        summary: "Create or replace one of the organisation's secrets (the value is never returned)",
        tags: ['security'],
        params: NameParams,
        body: SecretBody,
        response: { 204: { type: 'null', description: 'stored, sealed' }, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      if (!keyring) throw new ProblemError('conflict', 'this queen has no keyring: set MYRMEX_SECRET_KEYS or MYRMEX_SECRET_KEYS_FILE');
      const org = orgOf(request);
      const { name } = request.params as { name: string };
      const { value } = request.body as { value: string };
      await security.putSecret({ orgId: org, name, sealed: keyring.encrypt(value, secretContext(org, name)), updatedAt: new Date() });
      return reply.code(204).send();
    },
  );

  app.get(
    '/secrets',
    {
      schema: {
        summary: "The organisation's secret names (never their values)",
        tags: ['security'],
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ name: Type.String(), updated_at: Type.String({ format: 'date-time' }) })) }),
          ...problemResponses(401, 403),
        },
      },
    },
    async (request) => ({
      items: (await security.secrets(orgOf(request))).map((row) => ({ name: row.name, updated_at: row.updatedAt.toISOString() })),
    }),
  );

  app.delete(
    '/secrets/:name',
    {
      schema: {
        summary: 'Delete a secret',
        tags: ['security'],
        params: NameParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      if (!(await security.deleteSecret(orgOf(request), name))) throw new ProblemError('not-found', `no secret is named '${name}'`);
      return reply.code(204).send();
    },
  );
}
