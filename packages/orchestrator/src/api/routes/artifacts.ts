import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { QueenService } from '../../queen/service.js';
import { ProblemError } from '../problem.js';
import { IdParams, problemResponses } from '../schemas.js';

const Digest = Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'the blob digest the listing gives' });

const ArtifactSchema = Type.Object(
  {
    task_type: Type.String(),
    attempt: Type.Integer(),
    path: Type.String({ description: "relative to the task's working directory" }),
    digest: Digest,
    size: Type.Integer({ minimum: 0 }),
    mode: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

/** The artifacts a job's tasks left: listed, and downloaded by digest. */
export async function artifactRoutes(app: FastifyInstance, queen: QueenService): Promise<void> {
  const catalog = () => {
    if (queen.artifacts === undefined || queen.openArtifact === undefined) {
      throw new ProblemError('not-found', 'this queen keeps no artifacts');
    }
    return { list: queen.artifacts.bind(queen), open: queen.openArtifact.bind(queen) };
  };

  app.get(
    '/jobs/requests/:id/artifacts',
    {
      schema: {
        summary: "The job's unexpired artifacts, by task, attempt and path",
        tags: ['requests'],
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(ArtifactSchema) }), ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const items = await catalog().list(id);
      return {
        items: items.map((a) => ({
          task_type: a.taskType,
          attempt: a.attempt,
          path: a.path,
          digest: a.digest,
          size: a.size,
          mode: a.mode,
          created_at: a.createdAt.toISOString(),
          ...(a.expiresAt === undefined ? {} : { expires_at: a.expiresAt.toISOString() }),
        })),
      };
    },
  );

  app.get(
    '/jobs/requests/:id/artifacts/:digest',
    {
      schema: {
        summary: "One artifact's bytes (application/octet-stream), named by its digest",
        tags: ['requests'],
        params: Type.Object({ id: IdParams.properties.id, digest: Digest }, { additionalProperties: false }),
        response: {
          200: { description: 'the file', content: { 'application/octet-stream': { schema: {} } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, digest } = request.params as { id: string; digest: string };
      const { record, content } = await catalog().open(id, digest);
      reply.header('content-type', 'application/octet-stream');
      reply.header('content-length', String(record.size));
      reply.header('content-disposition', `attachment; filename="${basename(record.path).replace(/["\\\r\n]/g, '_')}"`);
      return reply.send(content);
    },
  );
}
