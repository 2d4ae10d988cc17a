import { lint, postMortemFromJob, readJob, render } from '@myrmex/postmortem';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { isExitTarget, routesOf } from '../../definition/graph.js';
import type { QueenService } from '../../queen/service.js';
import { ProblemError } from '../problem.js';
import { IdParams, JobStateSchema, JobTypeParams, problemResponses } from '../schemas.js';
import type { SseRegistry } from '../sse.js';
import { jobDetailToWire, timelineEventToWire } from '../wire.js';

const VersionParams = Type.Object(
  { type: JobTypeParams.properties.type, version: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

const GraphSchema = Type.Object({
  job_type: Type.String(),
  version: Type.Integer(),
  nodes: Type.Array(
    Type.Object({
      task_type: Type.String(),
      method: Type.String(),
      always_run: Type.Boolean(),
      routes: Type.Array(Type.String(), { description: 'every task this one can lead to' }),
    }),
  ),
  edges: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      kind: Type.String({ description: '`needs` (a join), `on_completed`, `on_failed` or `exit_code:<code>` (a route)' }),
    }),
  ),
});

const PostmortemSchema = Type.Object({
  job_id: Type.String(),
  state: JobStateSchema,
  markdown: Type.String({ description: "@myrmex/postmortem's draft, rendered as Markdown" }),
  findings: Type.Array(
    Type.Object({
      rule: Type.String(),
      severity: Type.String({ enum: ['error', 'warning', 'note'] }),
      message: Type.String(),
      hint: Type.String(),
      line: Type.Integer(),
      column: Type.Integer(),
    }),
  ),
});

/** How one task leads to another: a join (`needs`), or a route taken on an outcome. */
export type EdgeKind = 'needs' | 'on_completed' | 'on_failed' | `exit_code:${string}`;

/**
 * Read models for the dashboard: a definition's graph (nodes and typed edges, so a page can lay
 * out the DAG and mark the routes a job took) and a post-mortem draft of an ended job, with the
 * reviewer's findings, and every transition of every job as one event stream (the job list's live updates).
 */
export async function insightRoutes(app: FastifyInstance, queen: QueenService, streams: SseRegistry): Promise<void> {
  app.get(
    '/jobs/events',
    {
      schema: {
        summary: 'Every job and task transition of every job, live, as server-sent events',
        description:
          'A `text/event-stream` that never ends by itself: each `transition` event is a TimelineEvent (its id is the seq). ' +
          'With authentication on, only the caller organisation’s jobs are sent.',
        tags: ['requests'],
        produces: ['text/event-stream'],
        response: {
          200: {
            description: '`transition` events, each a TimelineEvent as JSON',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.hijack();
      const stream = streams.open(reply.raw);
      stream.onClose(queen.onTransition((event) => stream.send('transition', timelineEventToWire(event), event.seq)));
      return reply;
    },
  );

  app.get(
    '/jobs/definitions/:type/versions/:version/graph',
    {
      schema: {
        summary: "A definition version's task graph: tasks and typed edges (joins and routes)",
        tags: ['definitions'],
        params: VersionParams,
        response: { 200: GraphSchema, ...problemResponses(400, 404) },
      },
    },
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
    {
      schema: {
        summary: 'A post-mortem draft of a job (@myrmex/postmortem), with its lint findings',
        tags: ['requests'],
        params: IdParams,
        response: { 200: PostmortemSchema, ...problemResponses(400, 404) },
      },
    },
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
