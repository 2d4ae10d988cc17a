import { z } from 'zod';
import type { PostMortem } from '../../model/schema.js';
import { headingOf, normaliseHeading, SECTION_KEYS, type SectionKey } from '../../model/sections.js';
import { defineRule } from '../rule.js';

function isEmpty(doc: PostMortem, key: SectionKey): boolean {
  const section = doc[key];
  if (section === undefined) return true;
  if (typeof section === 'string') return section === '';
  return Object.values(section).every((value) => (Array.isArray(value) ? value.length === 0 : value === '' || typeof value === 'boolean'));
}

export const sectionMissing = defineRule({
  id: 'section-missing',
  severity: 'error',
  summary: 'A required section (Summary, Timeline, Root cause analysis, ...) is absent or empty.',
  why: 'Each section answers a question every reader has; a missing one is usually the analysis that was skipped.',
  hint: 'Add the section under its `## ` heading; `myrmex postmortem new` writes a template with all of them.',
  options: z
    .object({
      required: z.array(z.enum(SECTION_KEYS as [SectionKey, ...SectionKey[]])).default([...SECTION_KEYS]),
      // Sections a template adds beyond the known ones ("Trigger", "Leadup"), by heading.
      headings: z.array(z.string().min(1)).default([]),
    })
    .strict(),
  check(context, options) {
    const reports = options.required
      .filter((key) => isEmpty(context.doc, key))
      .map((key) => ({
        message: `the section "${headingOf(key)}" is ${context.doc[key] === undefined ? 'missing' : 'empty'}`,
        at: context.at(`/sections/${key}`),
      }));
    for (const heading of options.headings) {
      const section = context.doc.otherSections.find((s) => normaliseHeading(s.title) === normaliseHeading(heading));
      if (section === undefined || section.body === '')
        reports.push({
          message: `the section "${heading}" is ${section === undefined ? 'missing' : 'empty'}`,
          at: context.at('/sections/summary'),
        });
    }
    return reports;
  },
});
