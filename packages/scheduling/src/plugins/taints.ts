import { z } from 'zod';
import type { Plugin } from '../framework/plugin.js';
import type { Taint, TaintEffect, Toleration } from '../model.js';

export const taintOptions = z.strictObject({
  /** Weight of the PreferNoSchedule score among the scorers. */
  weight: z.number().positive().default(1),
});
export type TaintOptions = z.input<typeof taintOptions>;

const EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule'];

/** `key=value:Effect` or `key:Effect`, as `kubectl taint` writes them. */
export function formatTaint(taint: Taint): string {
  return `${taint.key}${taint.value === undefined ? '' : `=${taint.value}`}:${taint.effect}`;
}

/** Parses `key=value:Effect` (or `key:Effect`); the error names the text and what is wrong with it. */
export function parseTaint(text: string): Taint {
  const colon = text.lastIndexOf(':');
  const effect = text.slice(colon + 1);
  if (colon < 0 || !EFFECTS.includes(effect as TaintEffect)) {
    throw new Error(`taint '${text}': expected key=value:Effect with Effect one of ${EFFECTS.join(', ')}`);
  }
  const [key, ...rest] = text.slice(0, colon).split('=');
  if (!key) throw new Error(`taint '${text}': the key is empty`);
  return { key, ...(rest.length > 0 && { value: rest.join('=') }), effect: effect as TaintEffect };
}

/** Whether one toleration accepts one taint (Kubernetes' ToleratesTaint). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return toleration.key === undefined || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** The first taint of `effect` that none of the tolerations accepts. */
export function untolerated(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effect: TaintEffect,
): Taint | undefined {
  return taints?.find((taint) => taint.effect === effect && !(tolerations ?? []).some((t) => tolerates(t, taint)));
}

/**
 * Taints and tolerations: a task goes on a tainted ant only when it tolerates every NoSchedule taint there, and
 * scores an ant lower for each PreferNoSchedule taint it does not tolerate.
 */
export function taints(raw: TaintOptions = {}): Plugin {
  const { weight } = taintOptions.parse(raw);
  return {
    name: 'taints',
    weight,
    filter: (_job, task, state) => {
      const taint = untolerated(state.ant.taints, task.tolerations, 'NoSchedule');
      return taint && `no ant tolerated: taint ${formatTaint(taint)}`;
    },
    score: (_job, task, state) => {
      const preferred = state.ant.taints?.filter((taint) => taint.effect === 'PreferNoSchedule') ?? [];
      if (preferred.length === 0) return 100;
      const repelled = preferred.filter((taint) => !(task.tolerations ?? []).some((t) => tolerates(t, taint))).length;
      return (100 * (preferred.length - repelled)) / preferred.length;
    },
  };
}
