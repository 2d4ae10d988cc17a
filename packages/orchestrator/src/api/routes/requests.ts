import type { IdempotencyStore } from '@myrmex/idempotency';
import { idempotencyHooks } from '@myrmex/idempotency/fastify';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type JobAction, refusal } from '../../domain/states.js';
import type { JobSummary, QueenService } from '../../queen/service.js';
import { ProblemError } from '../problem.js';
import {
  BulkSubmitBody,
  CancelBody,
  IdParams,
  JobDetailRef,
  JobPageSchema,
  JobQueryString,
  JobSummaryRef,
  PauseBody,
  problemResponses,
  RestartBody,
  ResumeBody,
  SubmitBody,
  SubmitHeaders,
} from '../schemas.js';
import { jobDetailToWire, jobSummaryToWire } from '../wire.js';

/** The domain's rule for the action, as a 409 problem naming the job's state. */
function refuseIf(action: JobAction, job: JobSummary): void {
  const reason = refusal(action, job.id, job.state);
  if (reason !== undefined) throw new ProblemError('invalid-state', reason);
}

/**
 * Keys are optional (a plain POST submits as usual) and belong to the caller's organisation, so one
 * organisation's key never replays another's answer; without authentication all clients share one key space.
 */
function submitIdempotency(store: IdempotencyStore | undefined, app: FastifyInstance) {
  if (!store) return {};
  const { preParsing, preHandler, onSend, onResponse } = idempotencyHooks({
    store,
    principal: (request) => request.principal?.orgId ?? 'default',
    requiredMethods: [],
    logger: app.log,
  });
  return { preParsing, preHandler, onSend, onResponse };
}

export async function requestRoutes(app: FastifyInstance, queen: QueenService, idempotencyStore?: IdempotencyStore): Promise<void> {
  const existingJob = async (id: string): Promise<JobSummary> => {
    const job = await queen.getJob(id);
    if (!job) throw new ProblemError('not-found', `no job request has the id '${id}'`);
    return job;
  };

  app.post(
    '/jobs/requests',
    {
      ...submitIdempotency(idempotencyStore, app),
      schema: {
        summary: 'Submit a job request; with an Idempotency-Key header a retry replays the first answer',
        tags: ['requests'],
        headers: SubmitHeaders,
        body: SubmitBody,
        response: { 201: JobSummaryRef, ...problemResponses(400, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body as SubmitBody;
      const latest = (await queen.definitionVersions(body.job_type))[0];
      if (!latest) {
        throw new ProblemError('unknown-job-type', `no job definition has the type '${body.job_type}': apply one first`, [
          { field: 'job_type', in: 'body', message: 'is not a defined job type' },
        ]);
      }
      if (latest.disabled) {
        throw new ProblemError(
          'job-type-disabled',
          `the job type '${body.job_type}' is disabled: apply its definition again to enable it`,
          [{ field: 'job_type', in: 'body', message: 'is disabled' }],
        );
      }
      const job = await queen.submit({
        jobType: body.job_type,
        params: body.params ?? {},
        ...(body.priority === undefined ? {} : { priority: body.priority }),
        ...(body.scheduled_at === undefined ? {} : { scheduledAt: new Date(body.scheduled_at) }),
      });
      reply.code(201).header('location', `${request.url.split('?')[0]}/${encodeURIComponent(job.id)}`);
      return jobSummaryToWire(job);
    },
  );

  app.post(
    '/jobs/requests/bulk',
    {
      schema: {
        summary: 'Submit up to 1,000 job requests at once: all are created in one transaction, or none (a 4xx names requests[i])',
        tags: ['requests'],
        body: BulkSubmitBody,
        response: { 201: Type.Object({ items: Type.Array(JobSummaryRef) }), ...problemResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const body = request.body as BulkSubmitBody;
      const jobs = await queen.submitMany(
        body.requests.map((r) => ({
          jobType: r.job_type,
          params: r.params ?? {},
          ...(r.priority === undefined ? {} : { priority: r.priority }),
          ...(r.scheduled_at === undefined ? {} : { scheduledAt: new Date(r.scheduled_at) }),
        })),
      );
      reply.code(201);
      return { items: jobs.map(jobSummaryToWire) };
    },
  );

  app.get(
    '/jobs/requests',
    {
      schema: {
        summary: 'List job requests, newest first, filtered by state, type, submission time and id or type text',
        tags: ['requests'],
        querystring: JobQueryString,
        response: { 200: JobPageSchema, ...problemResponses(400) },
      },
    },
    async (request) => {
      const query = request.query as JobQueryString;
      const page = await queen.listJobs({
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.job_type === undefined ? {} : { jobType: query.job_type }),
        limit: query.limit ?? 50,
        offset: query.offset ?? 0,
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        ...(query.submitted_after === undefined ? {} : { submittedAfter: new Date(query.submitted_after) }),
        ...(query.submitted_before === undefined ? {} : { submittedBefore: new Date(query.submitted_before) }),
        ...(query.text === undefined ? {} : { text: query.text }),
        ...(query.count === undefined ? {} : { count: query.count }),
      });
      return {
        items: page.items.map(jobSummaryToWire),
        ...(page.total === undefined ? {} : { total: page.total }),
        limit: page.limit,
        offset: page.offset,
        ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
      };
    },
  );

  app.get(
    '/jobs/requests/:id',
    {
      schema: {
        summary: 'One job request with its tasks, attempts, exit codes, outputs and timeline',
        tags: ['requests'],
        params: IdParams,
        response: { 200: JobDetailRef, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await queen.getJob(id);
      if (!job) throw new ProblemError('not-found', `no job request has the id '${id}'`);
      return jobDetailToWire(job);
    },
  );

  app.post(
    '/jobs/requests/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job: running tasks are killed and nothing new starts',
        tags: ['requests'],
        params: IdParams,
        body: CancelBody,
        response: { 200: JobSummaryRef, ...problemResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await existingJob(id);
      refuseIf('cancel', job);
      const reason = (request.body as { reason?: string } | null | undefined)?.reason;
      return jobSummaryToWire(await queen.cancel(id, reason));
    },
  );

  app.post(
    '/jobs/requests/:id/pause',
    {
      schema: {
        summary: 'Pause a READY or EXECUTING job: nothing new starts, running tasks finish',
        tags: ['requests'],
        params: IdParams,
        body: PauseBody,
        response: { 200: JobSummaryRef, ...problemResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await existingJob(id);
      refuseIf('pause', job);
      const reason = (request.body as { reason?: string } | null | undefined)?.reason;
      return jobSummaryToWire(await queen.pause(id, reason));
    },
  );

  app.post(
    '/jobs/requests/:id/resume',
    {
      schema: {
        summary: 'Resume a PAUSED job: its tasks start again',
        tags: ['requests'],
        params: IdParams,
        body: ResumeBody,
        response: { 200: JobSummaryRef, ...problemResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await existingJob(id);
      refuseIf('resume', job);
      return jobSummaryToWire(await queen.resume(id));
    },
  );

  app.post(
    '/jobs/requests/:id/restart',
    {
      schema: {
        summary: 'Restart a FAILED or CANCELLED job: failed, cancelled and skipped tasks run again (hard: all tasks)',
        tags: ['requests'],
        params: IdParams,
        body: RestartBody,
        response: { 200: JobSummaryRef, ...problemResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const job = await existingJob(id);
      refuseIf('restart', job);
      const hard = (request.body as { hard?: boolean } | null | undefined)?.hard === true;
      return jobSummaryToWire(await queen.restart(id, { hard }));
    },
  );
}
