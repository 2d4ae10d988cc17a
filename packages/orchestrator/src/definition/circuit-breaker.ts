import * as z from 'zod';
import { longDuration } from './formicary-keys.js';

/**
 * `circuit_breaker` on an HTTP task or a job (issue 14; Myrmex's own key, Formicary has none): the
 * breaker per target host, or `false` to keep this task out of it. Unset keys take the queen's
 * defaults (MYRMEX_CIRCUIT_BREAKER); without either, tasks go through no breaker.
 */
export const circuitBreakerField = z
  .union([
    z.literal(false),
    z.strictObject({
      failures: z
        .int()
        .min(1)
        .max(1000)
        .meta({ description: 'Failures in a row (no response, or a 5xx) that open the breaker (default 5).' })
        .optional(),
      open_for: longDuration('How long the host stays open before one task goes through as a probe (default 30s).').optional(),
      when_open: z
        .enum(['fail', 'wait'])
        .meta({
          description:
            'fail: the task fails at once (an attempt used); wait: it waits, no attempt used, until a probe may go (default fail).',
        })
        .optional(),
    }),
  ])
  .meta({ description: 'A circuit breaker per HTTP target host, shared by the queens; false turns it off for this task.' });

export type CircuitBreakerSpec = z.output<typeof circuitBreakerField>;
