import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DefinitionValidationError } from '../definition/index.js';
import { QueenError } from '../queen/errors.js';
import { ForeignResourceError, QuotaExceededError } from '../store/security.js';
import { isStatementTimeout, isStoreUnreachable } from '../store/unreachable.js';
import {
  fieldErrorsFromViolations,
  makeProblem,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  ProblemError,
  type SchemaViolation,
  summarize,
} from './problem.js';

function definitionProblem(error: DefinitionValidationError, instance: string): Problem {
  const errors = error.errors.map((entry) => ({
    field: entry.path === '' ? 'body' : entry.path,
    in: 'body',
    // The field is named on its own, so the message drops the `path: ` it starts with.
    message: entry.path !== '' && entry.message.startsWith(`${entry.path}: `) ? entry.message.slice(entry.path.length + 2) : entry.message,
    location: `${entry.file}:${entry.line}:${entry.column}`,
  }));
  const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
  return makeProblem('invalid-definition', `the definition has ${count}:\n${error.message}`, instance, errors);
}

const QUEEN_KINDS = { invalid: 'validation-error', not_found: 'not-found', conflict: 'conflict', forbidden: 'forbidden' } as const;

function queenProblem(error: QueenError, instance: string): Problem {
  // The queen names fields in camelCase; the wire is snake_case.
  const field = error.field?.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  const errors = field ? [{ field, in: 'body', message: error.message }] : undefined;
  return makeProblem(QUEEN_KINDS[error.code], error.message, instance, errors);
}

/** Maps any error a route can raise to a problem document; unknown errors become a 500 that hides internals. */
export function toProblem(error: unknown, instance: string): Problem {
  if (error instanceof ProblemError) return makeProblem(error.kind, error.detail, instance, error.errors);
  if (error instanceof DefinitionValidationError) return definitionProblem(error, instance);
  if (error instanceof QueenError) return queenProblem(error, instance);
  if (error instanceof QuotaExceededError) return makeProblem('quota-exceeded', error.message, instance);
  // Says the name is taken, never by whom.
  if (error instanceof ForeignResourceError) return makeProblem('conflict', 'this job type name is taken: choose another', instance);
  const fastifyError = error as Partial<FastifyError>;
  if (Array.isArray(fastifyError.validation)) {
    const errors = fieldErrorsFromViolations(fastifyError.validation as SchemaViolation[], fastifyError.validationContext ?? 'body');
    return makeProblem('validation-error', summarize(errors), instance, errors);
  }
  const status = fastifyError.statusCode;
  const message = fastifyError.message ?? 'unknown error';
  if (status === 415) {
    return makeProblem('unsupported-media-type', message, instance, [
      { field: 'content-type', in: 'header', message: 'is not accepted here' },
    ]);
  }
  if (status === 413) return makeProblem('payload-too-large', message, instance);
  if (status === 429) return makeProblem('rate-limited', message, instance);
  if (status !== undefined && status >= 400 && status < 500) {
    return makeProblem('validation-error', message, instance, [{ field: 'body', in: 'body', message }]);
  }
  if (isStoreUnreachable(error)) {
    return makeProblem('store-unavailable', 'the queen cannot reach its database at the moment; retry shortly', instance);
  }
  // A statement stuck past the statement timeout (a lock another client holds, say): worth retrying, not a fault of the request.
  if (isStatementTimeout(error)) {
    return makeProblem('store-timeout', 'a database statement ran past the statement timeout and was cancelled; retry shortly', instance);
  }
  return makeProblem('internal-error', 'the queen failed to handle this request; the server log has the details', instance);
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/**
 * Problems written by plugins (the idempotency hooks) may leave out `instance`; every problem this
 * API sends names the request it answers.
 */
function withInstance(payload: unknown, instance: string): unknown {
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  if (text === undefined) return payload;
  try {
    const problem = JSON.parse(text) as Partial<Problem>;
    return problem.instance === undefined ? JSON.stringify({ ...problem, instance }) : payload;
  } catch {
    return payload;
  }
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    return type.startsWith(PROBLEM_CONTENT_TYPE) ? withInstance(payload, request.url) : payload;
  });
  app.setErrorHandler((error, request: FastifyRequest, reply) => {
    const problem = toProblem(error, request.url);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, makeProblem('not-found', `there is no route ${request.method} ${request.url.split('?')[0]}`, request.url)),
  );
}
