import { z } from 'zod';
import { normaliseHeading } from '../../model/sections.js';
import { defineRule } from '../rule.js';

const PHASES = ['detection', 'diagnosis', 'mitigation', 'blast radius'] as const;

export const responseAnalysisIncomplete = defineRule({
  id: 'response-analysis-incomplete',
  severity: 'warning',
  summary: 'The Incident response analysis lacks a Detection, Diagnosis, Mitigation or Blast radius subsection.',
  why: 'Each phase has its own question (how could we have halved this time, or halved the affected population?) and its own improvements.',
  hint: 'Add a `### ` subsection per phase and say how it could have been done in half the time, or with half the blast radius.',
  options: z.object({ phases: z.array(z.enum(PHASES)).default([...PHASES]) }).strict(),
  check(context, options) {
    const analysis = context.doc.responseAnalysis;
    if (!analysis) return [];
    const titles = analysis.parts.map((part) => normaliseHeading(part.title));
    const missing = options.phases.filter((phase) => !titles.some((title) => title.startsWith(phase)));
    if (missing.length === 0) return [];
    return [
      { message: `the incident response analysis has no ${missing.join(', ')} subsection`, at: context.at('/sections/responseAnalysis') },
    ];
  },
});
