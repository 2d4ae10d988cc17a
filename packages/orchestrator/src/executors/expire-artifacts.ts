import type { Executor } from './executor.js';

/**
 * EXPIRE_ARTIFACTS (Formicary's housekeeping method, usually on a cron_trigger): deletes the
 * artifact rows past their expiry, then the blobs no row names any more. The queen gives it the
 * sweep, since only the queen holds the catalog.
 */
export function createExpireArtifactsExecutor(expire: (now: Date) => Promise<{ readonly rows: number; readonly blobs: number }>): Executor {
  return {
    method: 'EXPIRE_ARTIFACTS',
    async execute(context) {
      try {
        const { rows, blobs } = await expire(new Date());
        context.log('stdout', `expired ${rows} artifact file(s); removed ${blobs} blob(s) no artifact names`, new Date());
        context.output('ExpiredArtifacts', String(rows));
        return { exitCode: 0, succeeded: true };
      } catch (error) {
        return { succeeded: false, error: `EXPIRE_ARTIFACTS: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}
