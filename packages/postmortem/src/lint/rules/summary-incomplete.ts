import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';

const ELEMENTS = ['context', 'timezone', 'impact', 'duration', 'cause', 'resolution', 'communication'] as const;
type Element = (typeof ELEMENTS)[number];

const ZONES = ['UTC', 'GMT', 'PST', 'PDT', 'EST', 'EDT', 'CST', 'CDT', 'MST', 'MDT', 'CET', 'CEST', 'BST', 'IST', 'JST', 'AEST', 'AEDT'];
const PHRASES: Record<Exclude<Element, 'context' | 'timezone' | 'impact' | 'duration'>, string[]> = {
  cause: ['caused by', 'were caused', 'was caused', 'because', 'due to', 'triggered by', 'root cause', 'the cause'],
  resolution: [
    'resolved',
    'mitigated',
    'rolled back',
    'roll back',
    'rollback',
    'restored',
    'recovered',
    'fixed',
    'reverted',
    'failed over',
  ],
  communication: ['status page', 'notified', 'notification*', 'communicat*', 'email*', 'support team', 'announc*', 'briefed'],
};
const QUANTITY =
  /(?<![\d:])\d[\d,.]*\s*(?:%|percent|k\b|customers?|users?|shoppers?|accounts?|requests?|orders?|transactions?|calls?|errors?|submissions?|attempts?|payments?|jobs?|messages?)|[$€£]\s?\d|\b(?:USD|EUR|GBP)\s?\d/i;
const DURATION = /\b\d+(?:\.\d+)?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|[hms])\b/i;
const OFFSET = /[+-]\d{2}:\d{2}\b/;

function has(element: Element, summary: string, service: string | undefined): boolean {
  switch (element) {
    case 'context':
      return service
        ? summary.toLowerCase().includes(service.toLowerCase())
        : findPhrase(summary, ['service', 'system', 'platform']) !== undefined;
    case 'timezone':
      return OFFSET.test(summary) || ZONES.some((zone) => new RegExp(`\\b${zone}\\b`).test(summary));
    case 'impact':
      return QUANTITY.test(summary);
    case 'duration':
      return DURATION.test(summary);
    default:
      return findPhrase(summary, PHRASES[element]) !== undefined;
  }
}

export const summaryIncomplete = defineRule({
  id: 'summary-incomplete',
  severity: 'error',
  summary:
    'The summary lacks one of: service context (it names the service), time zone, quantified impact, duration, cause, resolution, customer communication.',
  why: 'The summary is the email leadership reads instead of the document; each missing element is a question someone has to ask.',
  hint: 'Write the summary as a standalone email: what the service does, when (with time zone), how many were affected, for how long, why, how it was resolved, and what customers were told.',
  options: z.object({ require: z.array(z.enum(ELEMENTS)).default([...ELEMENTS]) }).strict(),
  check(context, options) {
    const summary = context.doc.summary;
    if (summary === undefined) return [];
    const missing = options.require.filter((element) => !has(element, summary, context.doc.frontMatter.service));
    if (missing.length === 0) return [];
    return [{ message: `the summary does not state: ${missing.join(', ')}`, at: context.at('/summary', '/sections/summary') }];
  },
});
