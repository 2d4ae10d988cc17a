import type { FastifyInstance } from 'fastify';
import type { QueenService } from '../../queen/service.js';
import { ProblemError } from '../problem.js';
import { ApplyQuery, ApplyResultRef, DefinitionDetailSchema, DefinitionListSchema, JobTypeParams, problemResponses } from '../schemas.js';
import { definitionToWire } from '../wire.js';

/** Media types a definition may be posted as; JSON is kept as text too, so error positions point into what was sent. */
export const DEFINITION_MEDIA_TYPES = ['text/yaml', 'application/yaml', 'application/x-yaml', 'text/x-yaml', 'application/json'];

const DEFINITION_BODY_DOC = {
  type: 'string',
  minLength: 1,
  description: 'the job definition as YAML or JSON text; errors are reported as file:line:col into this text',
};

export async function definitionRoutes(app: FastifyInstance, queen: QueenService): Promise<void> {
  // Encapsulated: only these routes read bodies as raw text.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(DEFINITION_MEDIA_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/jobs/definitions',
    {
      schema: {
        summary: 'Apply a job definition (YAML or JSON); a changed definition becomes a new version',
        tags: ['definitions'],
        consumes: DEFINITION_MEDIA_TYPES,
        querystring: ApplyQuery,
        response: { 200: ApplyResultRef, 201: ApplyResultRef, ...problemResponses(400, 415, 422) },
      },
      // The body is raw text checked by the definition parser, not by a JSON Schema; it is described
      // for the OpenAPI document only, so Fastify's own validation does not run on it.
      config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: DEFINITION_BODY_DOC }, url }) },
    },
    async (request, reply) => {
      const source = typeof request.body === 'string' ? request.body : '';
      if (source.trim() === '') {
        throw new ProblemError('validation-error', 'the body is empty: send the job definition as YAML or JSON', [
          { field: 'body', in: 'body', message: 'is required' },
        ]);
      }
      const { file_name } = request.query as { file_name?: string };
      const result = await queen.applyDefinition(source, file_name);
      reply.code(result.created ? 201 : 200);
      return { job_type: result.jobType, version: result.version, created: result.created };
    },
  );

  app.get(
    '/jobs/definitions',
    {
      schema: {
        summary: 'List job definitions (the latest version of each type)',
        tags: ['definitions'],
        response: { 200: DefinitionListSchema },
      },
    },
    async () => ({ items: (await queen.listDefinitions()).map(definitionToWire) }),
  );

  app.get(
    '/jobs/definitions/:type',
    {
      schema: {
        summary: 'One job type with every version, newest first',
        tags: ['definitions'],
        params: JobTypeParams,
        response: { 200: DefinitionDetailSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { type } = request.params as { type: string };
      const versions = await queen.definitionVersions(type);
      const latest = versions[0];
      if (!latest) throw new ProblemError('not-found', `no job definition has the type '${type}'`);
      return {
        job_type: latest.jobType,
        disabled: latest.disabled,
        latest: definitionToWire(latest),
        versions: versions.map(definitionToWire),
      };
    },
  );

  app.delete(
    '/jobs/definitions/:type',
    {
      schema: {
        summary: 'Disable a job type: it accepts no new requests, running ones finish',
        tags: ['definitions'],
        params: JobTypeParams,
        response: { 204: { type: 'null', description: 'disabled' }, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { type } = request.params as { type: string };
      if ((await queen.definitionVersions(type)).length === 0) {
        throw new ProblemError('not-found', `no job definition has the type '${type}'`);
      }
      await queen.disableDefinition(type);
      return reply.code(204).send();
    },
  );
}
