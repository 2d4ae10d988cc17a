import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import { expectedRuntime } from './sjf.js';

export const edfOptions = z.strictObject({
  /** 'deadline': earliest deadline first; 'laxity': least slack (deadline - now - runtime) first. */
  by: z.enum(['deadline', 'laxity']).default('deadline'),
  /** Give up on a job whose laxity is negative: it can no longer meet its deadline. */
  dropHopeless: z.boolean().default(false),
});
export type EdfOptions = z.input<typeof edfOptions>;

/** Earliest deadline first (or least laxity first). Jobs without a deadline go last. */
export function edf(raw: EdfOptions = {}): Plugin {
  const { by, dropHopeless } = edfOptions.parse(raw);
  return {
    name: 'edf',
    // Laxity (deadline - now - runtime) orders as deadline - runtime: `now` cancels out between two jobs (left out,
    // so rounding cannot make the order move with it), but a runtime taken from history moves.
    ...(by === 'laxity' && { volatileSort: 'history' as const }),
    queueSort: (a, b, context) => {
      const key = (job: typeof a) => {
        if (job.deadline === undefined) return Number.POSITIVE_INFINITY;
        if (by === 'deadline') return job.deadline;
        const runtime = expectedRuntime(job, context);
        return job.deadline - (Number.isFinite(runtime) ? runtime : 0);
      };
      const [ka, kb] = [key(a), key(b)];
      return ka === kb ? 0 : ka < kb ? -1 : 1;
    },
    ...(dropHopeless && {
      admit: (job, context) => {
        if (job.deadline === undefined) return undefined;
        const runtime = expectedRuntime(job, context);
        const laxity = job.deadline - context.now - (Number.isFinite(runtime) ? runtime : 0);
        return laxity < 0 ? { reason: `deadline can no longer be met (laxity ${laxity} ms)`, giveUp: true } : undefined;
      },
    }),
  };
}

/** Liu & Layland (1973): periodic tasks with deadline = period are EDF-schedulable on one processor iff sum(C/T) <= 1. */
export function edfUtilisation(tasks: readonly { readonly runtime: number; readonly period: number }[]): {
  utilisation: number;
  schedulable: boolean;
} {
  const utilisation = tasks.reduce((sum, { runtime, period }) => sum + runtime / period, 0);
  return { utilisation, schedulable: utilisation <= 1 + 1e-12 };
}

/** Rate-monotonic's sufficient bound n(2^(1/n) - 1) from the same paper, for comparison. */
export function rateMonotonicBound(n: number): number {
  return n * (2 ** (1 / n) - 1);
}

/**
 * One-shot jobs on one processor, all released at `now`: run in deadline order, every job meets its
 * deadline iff each prefix's total runtime fits before its last deadline (Jackson's rule).
 */
export function feasibleByDeadline(now: number, jobs: readonly { readonly runtime: number; readonly deadline: number }[]): boolean {
  let clock = now;
  for (const job of [...jobs].sort((a, b) => a.deadline - b.deadline)) {
    clock += job.runtime;
    if (clock > job.deadline) return false;
  }
  return true;
}
