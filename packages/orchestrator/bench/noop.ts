import type { Executor } from '@myrmex/orchestrator';

/** The benchmark's in-process method: succeeds at once, so the figures measure the queen alone. */
export const noopExecutor: Executor = {
  method: 'NOOP',
  execute: async () => ({ exitCode: 0, succeeded: true }),
};
