import { lint, postMortemFromJob, readJob, render } from '@myrmex/postmortem';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { isExitTarget, routesOf } from '../../definition/graph.js';
import type { QueenService } from '../../queen/service.js';
import { ProblemError } from '../problem.js';
import { IdParams, JobTypeParams } from '../schemas.js';
import type { SseRegistry } from '../sse.js';
import { jobDetailToWire, timelineEventToWire } from '../wire.js';

const VersionParams = Type.Object(
  { type: JobTypeParams.properties.type, version: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

/** How one task leads to another: a join (`needs`), or a route taken on an outcome. */
export type EdgeKind = 'needs' | 'on_completed' | 'on_failed' | `exit_code:${string}`;

/**
 * Read models for the dashboard: a definition's graph (nodes and typed edges, so a page can lay
 * out the DAG and mark the routes a job took) and a post-mortem draft of an ended job, with the
 * reviewer's findings. Hidden from the OpenAPI document until they are settled.
 */
export async function insightRoutes(app: FastifyInstance, queen: QueenService, streams: SseRegistry): Promise<void> {
  app.get(
    '/jobs/events',
    { schema: { hide: true, summary: 'Every job and task transition of every job, live, as server-sent events', tags: ['requests'] } },
    async (_request, reply) => {
      reply.hijack();
      const stream = streams.open(reply.raw);
      stream.onClose(queen.onTransition((event) => stream.send('transition', timelineEventToWire(event), event.seq)));
      return reply;
    },
  );

  app.get(
    '/jobs/definitions/:type/versions/:version/graph',
    { schema: { hide: true, params: VersionParams, summary: "A definition version's task graph", tags: ['definitions'] } },
    async (request) => {
      const { type, version } = request.params as { type: string; version: number };
      const found = (await queen.definitionVersions(type)).find((v) => v.version === version);
      if (!found) throw new ProblemError('not-found', `job type '${type}' has no version ${version}`);
      const tasks = found.definition.tasks;
      const edges: { from: string; to: string; kind: EdgeKind }[] = [];
      for (const task of tasks) {
        for (const need of task.needs) edges.push({ from: need, to: task.taskType, kind: 'needs' });
        const route = (target: string | undefined, kind: EdgeKind) => {
          if (target !== undefined && !isExitTarget(target)) edges.push({ from: task.taskType, to: target, kind });
        };
        route(task.onCompleted, 'on_completed');
        route(task.onFailed, 'on_failed');
        for (const [code, target] of Object.entries(task.onExitCode)) route(target, `exit_code:${code}`);
      }
      return {
        job_type: type,
        version,
        nodes: tasks.map((task) => ({
          task_type: task.taskType,
          method: task.method,
          always_run: task.alwaysRun,
          routes: routesOf(task),
        })),
        edges,
      };
    },
  );

  app.get(
    '/jobs/requests/:id/postmortem',
    { schema: { hide: true, params: IdParams, summary: 'A post-mortem draft of a job, with lint findings', tags: ['requests'] } },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await queen.getJob(id);
      if (!job) throw new ProblemError('not-found', `no job request has the id '${id}'`);
      const markdown = render(postMortemFromJob(readJob(jobDetailToWire(job)), new Date().toISOString()));
      const findings = lint(markdown).map((finding) => ({ ...finding }));
      return { job_id: id, state: job.state, markdown, findings };
    },
  );
}
