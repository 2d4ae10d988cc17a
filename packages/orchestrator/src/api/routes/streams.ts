import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type JobState, type QueenService, TERMINAL_JOB_STATES, type TimelineEvent } from '../../queen/service.js';
import { toProblem } from '../errors.js';
import { ProblemError } from '../problem.js';
import { EventQuery, IdParams, LogPageSchema, LogQuery, problemResponses, TimelineSchema } from '../schemas.js';
import type { SseRegistry, SseStream } from '../sse.js';
import { jobSummaryToWire, logLineToWire, timelineEventToWire } from '../wire.js';

const isTerminal = (state: string): boolean => (TERMINAL_JOB_STATES as readonly string[]).includes(state);

/** A reconnecting EventSource resumes after the last id it saw; `after` in the query wins over it. */
function resumeAfter(request: FastifyRequest, after: number | undefined): number | undefined {
  if (after !== undefined) return after;
  const header = request.headers['last-event-id'];
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

const sseDescription = 'With `follow=true` the response is `text/event-stream` and ends with an `end` event when the job ends.';

export async function streamRoutes(app: FastifyInstance, queen: QueenService, streams: SseRegistry): Promise<void> {
  const requireJob = async (id: string) => {
    const job = await queen.getJob(id);
    if (!job) throw new ProblemError('not-found', `no job request has the id '${id}'`);
    return job;
  };

  /**
   * Returns a function that sends the job's final summary as `end` and closes the stream, once. It is
   * bound to the request's async context: the queen calls it from a transition's, where the tenant
   * guard would find no caller and the stream would close without its `end`.
   */
  const ender = (stream: SseStream, id: string, request: FastifyRequest): (() => void) => {
    let ended = false;
    return AsyncResource.bind(() => {
      if (ended || stream.closed) return;
      ended = true;
      queen
        .getJob(id)
        .then((job) => {
          if (job) stream.send('end', jobSummaryToWire(job));
        })
        .catch((error) => request.log.error(error, 'ending a stream failed'))
        .finally(() => stream.close());
    });
  };

  app.get(
    '/jobs/requests/:id/logs',
    {
      schema: {
        summary: 'Log lines of a job (optionally one task); `follow=true` streams them as server-sent events',
        description: `${sseDescription} Each line is a \`log\` event whose id is the line's seq.`,
        tags: ['requests'],
        params: IdParams,
        querystring: LogQuery,
        produces: ['application/json', 'text/event-stream'],
        response: { 200: LogPageSchema, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const query = request.query as LogQuery;
      await requireJob(id);
      const taskType = query.task;
      const afterSeq = resumeAfter(request, query.after);
      if (!query.follow) {
        const lines = await queen.logs(id, { ...(taskType ? { taskType } : {}), afterSeq: afterSeq ?? 0, limit: query.limit ?? 1000 });
        return { items: lines.map(logLineToWire) };
      }
      reply.hijack();
      const stream = streams.open(reply.raw);
      let lastSeq = afterSeq ?? 0;
      try {
        const stop = queen.followLogs(
          id,
          { ...(taskType ? { taskType } : {}), afterSeq: lastSeq },
          (line) => {
            if (line.seq <= lastSeq) return;
            lastSeq = line.seq;
            stream.send('log', logLineToWire(line), line.seq);
          },
          ender(stream, id, request),
        );
        stream.onClose(stop);
      } catch (error) {
        // The 200 and its headers are already out: the failure travels as an event, then the stream ends.
        const problem = toProblem(error, request.url);
        if (problem.status >= 500) request.log.error({ err: error }, 'cannot follow logs');
        stream.send('error', problem);
        stream.close();
      }
      return reply;
    },
  );

  app.get(
    '/jobs/requests/:id/events',
    {
      schema: {
        summary: "A job's timeline (job and task transitions); `follow=true` streams it as server-sent events",
        description: `${sseDescription} Each transition is a \`transition\` event whose id is its seq.`,
        tags: ['requests'],
        params: IdParams,
        querystring: EventQuery,
        produces: ['application/json', 'text/event-stream'],
        response: { 200: TimelineSchema, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const query = request.query as EventQuery;
      const afterSeq = resumeAfter(request, query.after) ?? 0;
      if (!query.follow) {
        const job = await requireJob(id);
        return { items: job.timeline.filter((event) => event.seq > afterSeq).map(timelineEventToWire), state: job.state };
      }
      // Subscribe before the snapshot so no transition falls between the two; duplicates are dropped by seq.
      const pending: TimelineEvent[] = [];
      let deliver: ((event: TimelineEvent) => void) | undefined;
      const unsubscribe = queen.onTransition((event) => {
        if (event.jobId !== id) return;
        if (deliver) deliver(event);
        else pending.push(event);
      });
      let job: Awaited<ReturnType<typeof requireJob>>;
      try {
        job = await requireJob(id);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      reply.hijack();
      const stream = streams.open(reply.raw);
      stream.onClose(unsubscribe);
      const end = ender(stream, id, request);
      let lastSeq = afterSeq;
      let state: JobState = job.state;
      const send = (event: TimelineEvent, live: boolean): void => {
        if (event.seq <= lastSeq || stream.closed) return;
        lastSeq = event.seq;
        stream.send('transition', timelineEventToWire(event), event.seq);
        // A past FAILED may have been followed by a restart, so only live job transitions can end the stream.
        if (live && event.taskType === undefined) {
          state = event.to as JobState;
          if (isTerminal(state)) end();
        }
      };
      for (const event of job.timeline) send(event, false);
      for (const event of pending.splice(0)) send(event, true);
      deliver = (event) => send(event, true);
      if (isTerminal(state)) end();
      return reply;
    },
  );
}
