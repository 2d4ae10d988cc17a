import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type Keyring, MIN_SECRET_LENGTH } from '../../security/index.js';
import { jobSecretContext, secretContext } from '../../store/secret-source.js';
import type { SecurityStore } from '../../store/security.js';
import { ProblemError } from '../problem.js';
import { problemResponses } from '../schemas.js';

const SecretName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' });
const NameParams = Type.Object({ name: SecretName }, { additionalProperties: false });
// `type` is the name the API's guard checks: another organisation's job type, or none, is a 404.
const JobTypeParams = Type.Object({ type: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const JobSecretParams = Type.Object(
  { type: Type.String({ minLength: 1, maxLength: 200 }), name: SecretName },
  { additionalProperties: false },
);
const SecretList = Type.Object({
  items: Type.Array(Type.Object({ name: Type.String(), updated_at: Type.String({ format: 'date-time' }) })),
});
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
        response: { 200: SecretList, ...problemResponses(401, 403) },
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

  // A job type's own secrets: `{{.Secrets.NAME}}` in its tasks reads these first, then the organisation's.
  app.put(
    '/jobs/definitions/:type/secrets/:name',
    {
      schema: {
        summary: "Create or replace a secret of one job type; it overrides the organisation's secret of that name (never returned)",
        tags: ['security'],
        params: JobSecretParams,
        body: SecretBody,
        response: { 204: { type: 'null', description: 'stored, sealed' }, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      if (!keyring) throw new ProblemError('conflict', 'this queen has no keyring: set MYRMEX_SECRET_KEYS or MYRMEX_SECRET_KEYS_FILE');
      const org = orgOf(request);
      const { type, name } = request.params as { type: string; name: string };
      const { value } = request.body as { value: string };
      const sealed = keyring.encrypt(value, jobSecretContext(org, type, name));
      await security.putJobSecret({ orgId: org, jobType: type, name, sealed, updatedAt: new Date() });
      return reply.code(204).send();
    },
  );

  app.get(
    '/jobs/definitions/:type/secrets',
    {
      schema: {
        summary: "A job type's own secret names (never their values)",
        tags: ['security'],
        params: JobTypeParams,
        response: { 200: SecretList, ...problemResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const { type } = request.params as { type: string };
      const rows = await security.jobSecrets({ orgId: orgOf(request), jobType: type });
      return { items: rows.map((row) => ({ name: row.name, updated_at: row.updatedAt.toISOString() })) };
    },
  );

  app.delete(
    '/jobs/definitions/:type/secrets/:name',
    {
      schema: {
        summary: "Delete a job type's secret (the organisation's of the same name applies again)",
        tags: ['security'],
        params: JobSecretParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { type, name } = request.params as { type: string; name: string };
      if (!(await security.deleteJobSecret(orgOf(request), type, name))) {
        throw new ProblemError('not-found', `job type '${type}' has no secret named '${name}'`);
      }
      return reply.code(204).send();
    },
  );
}
