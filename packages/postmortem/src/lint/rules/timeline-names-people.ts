import { z } from 'zod';
import { type PostMortem, reviewersOf } from '../../model/schema.js';
import { defineRule, type Report } from '../rule.js';
import { findPhrase } from '../text.js';

/** People the document itself names: authors and reviewers by full and first name, action owners by full name. */
function documentNames(doc: PostMortem): string[] {
  const fm = doc.frontMatter;
  const { barRaisers, others } = reviewersOf(fm);
  const people = [...(fm.authors ?? []), ...barRaisers, ...others];
  const firstNames = people.map((name) => name.split(/\s+/)).filter((parts) => parts.length > 1 && (parts[0]?.length ?? 0) >= 3);
  const owners = (doc.actions?.items ?? []).map((a) => a.owner).filter((owner) => /^\p{Lu}\p{L}+(?:\s+\p{Lu}[\p{L}'-]+)+$/u.test(owner));
  return [...people, ...firstNames.map((parts) => parts[0] ?? ''), ...owners];
}

/** "at 14:51", or the entry's opening words when it has no time. */
const entryLabel = (entry: { time: string | null; text: string }) =>
  entry.time === null ? `"${entry.text.length > 30 ? `${entry.text.slice(0, 30)}…` : entry.text}"` : `at ${entry.time}`;

export const timelineNamesPeople = defineRule({
  id: 'timeline-names-people',
  severity: 'warning',
  summary: 'A timeline entry names a person ("Alice restarted the database") instead of a role.',
  why: 'Names turn a timeline into a list of who to blame and make it useless to readers who do not know the people.',
  hint: 'Use roles: "the on-call engineer", "the incident commander", "the database on-call".',
  options: z.object({ names: z.array(z.string().min(1)).default([]), useDocumentNames: z.boolean().default(true) }).strict(),
  check(context, options) {
    const names = [...new Set([...options.names, ...(options.useDocumentNames ? documentNames(context.doc) : [])])];
    const reports: Report[] = [];
    (context.doc.timeline?.entries ?? []).forEach((entry, i) => {
      const name = findPhrase(entry.text, names);
      if (name)
        reports.push({ message: `the entry ${entryLabel(entry)} names "${name.phrase}"`, at: context.at(`/timeline/entries/${i}`) });
    });
    return reports;
  },
});
