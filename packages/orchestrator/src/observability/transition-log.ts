import type { Logger } from 'pino';
import type { QueenService } from '../queen/service.js';

/**
 * One structured line per job and task transition, carrying `jobId` (and `taskType`) as fields, so
 * a log pipeline can follow one job across queens without parsing messages.
 */
export function logTransitions(queen: QueenService, logger: Logger): () => void {
  return queen.onTransition((event) => {
    const fields = {
      jobId: event.jobId,
      ...(event.taskType === undefined ? {} : { taskType: event.taskType }),
      from: event.from ?? null,
      to: event.to,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      seq: event.seq,
    };
    const subject = event.taskType === undefined ? `job ${event.jobId}` : `task ${event.taskType} of job ${event.jobId}`;
    const level = event.to === 'FAILED' ? 'warn' : 'info';
    logger[level](fields, `${subject} ${event.from ?? '-'} -> ${event.to}`);
  });
}
