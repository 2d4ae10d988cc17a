import { expectList, expectString, parsedProblem } from '../input.js';
import { instant, isDate } from '../lint/time.js';
import type { SourceMap } from '../model/positions.js';
import type { ActionItem, PostMortem } from '../model/schema.js';

const DAY = 86_400_000;
export const DONE_STATUSES = ['done', 'closed', 'complete', 'completed', 'fixed', 'resolved'] as const;

export interface TrackedAction extends ActionItem {
  readonly file: string;
  readonly line: number;
  /** Title of the post-mortem the action comes from. */
  readonly postmortem: string;
  readonly done: boolean;
  readonly overdue: boolean;
  /** Days since the post-mortem was published (or drafted); null when it carries neither date. */
  readonly ageDays: number | null;
  /** Days past the deadline for an open action; 0 when not overdue. */
  readonly daysOverdue: number;
}

export interface Counts {
  total: number;
  open: number;
  done: number;
  overdue: number;
}

export interface ActionSummary extends Counts {
  readonly today: string;
  /** done / total, or null when there are no actions. */
  readonly completionRate: number | null;
  /** Mean and maximum age of the open actions, in days. */
  readonly openAge: { readonly mean: number | null; readonly max: number | null };
  readonly byOwner: Record<string, Counts>;
  readonly byPriority: Record<string, Counts>;
  readonly actions: readonly TrackedAction[];
}

export interface TrackInput {
  readonly file: string;
  readonly doc: PostMortem;
  readonly positions: SourceMap;
}

/** Every action item across the documents, classified against `today` (YYYY-MM-DD). Pure. */
export function trackActions(inputs: readonly TrackInput[], today: string, doneStatuses: readonly string[] = DONE_STATUSES): ActionSummary {
  expectList(inputs, 'trackActions', 'the inputs', parsedProblem);
  expectString(today, 'trackActions', 'today');
  expectList(doneStatuses, 'trackActions', 'the done statuses', (s) => (typeof s === 'string' ? undefined : 'must be a string'));
  const now = instant(today);
  if (!isDate(today) || now === undefined) throw new RangeError(`today must be a date (YYYY-MM-DD), got "${today}"`);
  const doneSet = new Set(doneStatuses.map((s) => s.toLowerCase()));
  const actions = inputs.flatMap(({ file, doc, positions }) => {
    const since = instant(doc.frontMatter.published_at ?? doc.frontMatter.draft_created_at);
    return (doc.actions?.items ?? []).map((action, i): TrackedAction => {
      const done = doneSet.has(action.status.trim().toLowerCase());
      const due = isDate(action.deadline) ? instant(action.deadline) : undefined;
      const daysOverdue = !done && due !== undefined && due < now ? Math.floor((now - due) / DAY) : 0;
      return {
        ...action,
        file,
        line: positions.get(`/actions/items/${i}`)?.line ?? 1,
        postmortem: doc.frontMatter.title ?? file,
        done,
        overdue: daysOverdue > 0,
        ageDays: since === undefined ? null : Math.max(0, Math.floor((now - since) / DAY)),
        daysOverdue,
      };
    });
  });
  const byOwner: Record<string, Counts> = {};
  const byPriority: Record<string, Counts> = {};
  const total = tally(actions);
  for (const action of actions) {
    addTo(byOwner, action.owner || '(no owner)', action);
    addTo(byPriority, normalisePriority(action.priority), action);
  }
  const openAges = actions.filter((a) => !a.done && a.ageDays !== null).map((a) => a.ageDays as number);
  return {
    today,
    ...total,
    completionRate: actions.length === 0 ? null : total.done / actions.length,
    openAge: {
      mean: openAges.length === 0 ? null : openAges.reduce((a, b) => a + b, 0) / openAges.length,
      max: openAges.length === 0 ? null : Math.max(...openAges),
    },
    byOwner,
    byPriority,
    actions,
  };
}

const empty = (): Counts => ({ total: 0, open: 0, done: 0, overdue: 0 });

function add(counts: Counts, action: TrackedAction): void {
  counts.total++;
  if (action.done) counts.done++;
  else counts.open++;
  if (action.overdue) counts.overdue++;
}

function addTo(group: Record<string, Counts>, key: string, action: TrackedAction): void {
  const counts = group[key] ?? empty();
  group[key] = counts;
  add(counts, action);
}

function tally(actions: readonly TrackedAction[]): Counts {
  const counts = empty();
  for (const action of actions) add(counts, action);
  return counts;
}

function normalisePriority(priority: string): string {
  const trimmed = priority.trim();
  return trimmed === '' ? '(no priority)' : trimmed.charAt(0).toUpperCase() + trimmed.slice(1).toLowerCase();
}
