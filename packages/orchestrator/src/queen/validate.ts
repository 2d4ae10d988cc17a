import { internalJobType } from '../domain/job-type-names.js';
import { DEFAULT_ORG } from '../store/security.js';
import { QueenError } from './errors.js';
import type { SubmitRequest } from './service.js';

export interface ValidSubmit {
  readonly jobType: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly priority?: number;
  readonly scheduledAt?: Date;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/** Checks a submit request field by field; the first problem is reported with the field's name. */
export function validateSubmit(request: SubmitRequest): ValidSubmit {
  if (!isPlainObject(request)) throw new QueenError('invalid', 'the request must be an object', 'request');
  const { jobType, params, priority, scheduledAt } = request;
  if (typeof jobType !== 'string' || jobType.trim() === '')
    throw new QueenError('invalid', 'jobType must be a non-empty string', 'jobType');
  if (params !== undefined && !isPlainObject(params)) throw new QueenError('invalid', 'params must be an object of values', 'params');
  if (params !== undefined) {
    try {
      JSON.stringify(params);
    } catch (error) {
      throw new QueenError('invalid', `params must be JSON data: ${error instanceof Error ? error.message : String(error)}`, 'params');
    }
  }
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 0 || priority > 100)) {
    throw new QueenError('invalid', `priority must be an integer from 0 to 100, got ${String(priority)}`, 'priority');
  }
  if (scheduledAt !== undefined && (!(scheduledAt instanceof Date) || Number.isNaN(scheduledAt.getTime()))) {
    throw new QueenError('invalid', 'scheduledAt must be a valid Date', 'scheduledAt');
  }
  return {
    // The type is named in the namespace of the organisation the job is filed under (job-type-names.ts).
    jobType: internalJobType(request.org ?? DEFAULT_ORG, jobType),
    params: params ?? {},
    ...(priority === undefined ? {} : { priority }),
    ...(scheduledAt === undefined ? {} : { scheduledAt }),
  };
}
