import { formatTaint, type MatchExpression, matches, type Toleration, untolerated } from '@myrmex/scheduling';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import { shortOf } from '../domain/quantities.js';
import type { AntSlot } from '../domain/types.js';
import { DEFAULT_ORG } from '../store/security.js';

/**
 * What a task needs from the ant it runs on beyond its method and tags (issue 13): placement `resources`
 * (cpu, memory, named quantities; never Formicary's consumable counters), Kubernetes `node_selector` and the
 * required terms of `affinity` (Myrmex's form, or Kubernetes' node affinity), all matched against ant labels.
 */
export interface PlacementNeeds {
  /** Quantities that must be free on the ant, in the definitions' units; without the scheduler's `slots`. */
  readonly resources: Readonly<Record<string, number>>;
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Terms ORed, expressions ANDed; absent: any ant. */
  readonly required?: readonly (readonly MatchExpression[])[];
  /** Which ant taints the task accepts (Kubernetes `tolerations`). */
  readonly tolerations?: readonly Toleration[];
}

export const NO_NEEDS: PlacementNeeds = { resources: {}, nodeSelector: {} };

/** A task's needs: its own keys, else its job's. */
export function placementNeeds(definition: JobDefinition, task: TaskDefinition): PlacementNeeds {
  const resources = task.scheduling?.resources ?? definition.scheduling?.resources ?? {};
  const required = task.scheduling?.affinity?.required ?? definition.scheduling?.affinity?.required;
  const tolerations = tolerationsOf(task.placement.tolerations);
  return {
    resources,
    nodeSelector: task.placement.nodeSelector,
    ...(required && { required }),
    ...(tolerations.length > 0 && { tolerations }),
  };
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/**
 * Kubernetes' list of tolerations, or a map of key to value (Equal) or to a toleration without its key. The
 * definition schema takes any JSON there: an entry of another shape tolerates nothing, so the task only stays off
 * tainted ants, with the taint named in its status.
 */
function tolerationsOf(raw: unknown): Toleration[] {
  const one = (entry: unknown, key?: string): Toleration[] => {
    if (typeof entry === 'string') return key === undefined ? [] : [{ key, operator: 'Equal', value: entry }];
    if (typeof entry !== 'object' || entry === null) return [];
    const fields = entry as Record<string, unknown>;
    const operator = fields.operator === 'Exists' ? 'Exists' : 'Equal';
    const effect = text(fields.effect);
    const value = text(fields.value);
    const name = text(fields.key) ?? key;
    return [
      {
        operator,
        ...(name !== undefined && { key: name }),
        ...(value !== undefined && { value }),
        ...((effect === 'NoSchedule' || effect === 'PreferNoSchedule') && { effect }),
      },
    ];
  };
  if (Array.isArray(raw)) return raw.flatMap((entry) => one(entry));
  if (typeof raw === 'object' && raw !== null) return Object.entries(raw).flatMap(([key, entry]) => one(entry, key));
  return [];
}

/** The labels expressions are matched against: the ant's labels, and each of its tags as `tag: 'true'`. */
export function antLabels(ant: Pick<AntSlot, 'tags' | 'labels'>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const tag of ant.tags) labels[tag] = 'true';
  return Object.assign(labels, ant.labels);
}

const selects = (ant: AntSlot, selector: Readonly<Record<string, string>>) =>
  Object.entries(selector).every(([key, value]) => ant.labels?.[key] === value);

const matchesRequired = (ant: AntSlot, required: PlacementNeeds['required']) => {
  if (!required || required.length === 0) return true;
  const labels = antLabels(ant);
  return required.some((term) => term.every((expression) => matches(expression, labels)));
};

const tolerated = (ant: AntSlot, needs: PlacementNeeds) => untolerated(ant.taints, needs.tolerations, 'NoSchedule') === undefined;

/** The ant's labels satisfy node_selector and required affinity, and the task tolerates its NoSchedule taints. */
export function labelsMatch(ant: AntSlot, needs: PlacementNeeds): boolean {
  return selects(ant, needs.nodeSelector) && matchesRequired(ant, needs.required) && tolerated(ant, needs);
}

/** The ant could hold the task's resources if it ran nothing else. */
export function largeEnough(ant: AntSlot, needs: PlacementNeeds): boolean {
  return shortOf(needs.resources, ant.resources) === undefined;
}

/** The task's resources are free on the ant now. */
export function hasRoom(ant: AntSlot, needs: PlacementNeeds): boolean {
  return shortOf(needs.resources, ant.resources, ant.used) === undefined;
}

const pairs = (map: Readonly<Record<string, string | number>>) =>
  Object.entries(map)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

const expression = (e: MatchExpression) =>
  e.operator === 'Exists' || e.operator === 'DoesNotExist'
    ? `${e.key} ${e.operator}`
    : `${e.key} ${e.operator} ${e.operator === 'In' || e.operator === 'NotIn' ? `[${(e.values ?? []).join(', ')}]` : (e.values?.[0] ?? '')}`;

/**
 * Why no connected ant could ever run the task (`org` absent: organisations are not compared), as a sentence for `myrmex status` ("no ant has tags [gpu]",
 * "no ant matches node_selector disk=ssd", "no ant has resources cpu=8"); undefined when some ant could, busy
 * or not. Each test narrows the ants the previous one left, so the sentence names the first thing missing.
 */
export function whyNoAnt(
  task: { readonly method: string; readonly tags: readonly string[]; readonly org?: string; readonly needs: PlacementNeeds },
  ants: readonly AntSlot[],
): string | undefined {
  if (ants.length === 0) return 'no ant is connected';
  // Past the organisation's own step, a job of an organisation (not the default one) is told which ants were
  // looked at: its organisation's and the shared ones, not the ants bound to other organisations.
  const some = task.org === undefined || task.org === DEFAULT_ORG ? 'no ant' : `no ant of org ${task.org}`;
  const steps: [(ant: AntSlot) => boolean, () => string][] = [
    [(ant) => task.org === undefined || ant.org === undefined || ant.org === task.org, () => `no ant serves organisation ${task.org}`],
    [
      (ant) => ant.methods.has(task.method),
      () => (some === 'no ant' ? `no ant runs method ${task.method}` : `${some} has method ${task.method}`),
    ],
    [(ant) => task.tags.every((tag) => ant.tags.has(tag)), () => `${some} has tags [${task.tags.join(', ')}]`],
    [(ant) => selects(ant, task.needs.nodeSelector), () => `${some} matches node_selector ${pairs(task.needs.nodeSelector)}`],
    [
      (ant) => matchesRequired(ant, task.needs.required),
      () => `${some} matches affinity ${(task.needs.required ?? []).map((term) => term.map(expression).join(' and ')).join(' or ')}`,
    ],
    [(ant) => largeEnough(ant, task.needs), () => `${some} has resources ${pairs(task.needs.resources)}`],
  ];
  let left = ants;
  for (const [keep, reason] of steps) {
    const kept = left.filter(keep);
    if (kept.length === 0) return reason();
    left = kept;
  }
  // Last, as Kubernetes reports it: the taint that kept the task off the ants left.
  const kept = left.filter((ant) => tolerated(ant, task.needs));
  if (kept.length === 0) {
    const taint = untolerated(left[0]!.taints, task.needs.tolerations, 'NoSchedule')!;
    return `no ant tolerated: taint ${formatTaint(taint)}`;
  }
  return undefined;
}
