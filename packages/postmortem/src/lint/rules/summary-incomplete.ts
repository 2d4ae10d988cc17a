import { z } from 'zod';
import type { FrontMatter } from '../../model/schema.js';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';

const ELEMENTS = ['context', 'timezone', 'impact', 'duration', 'cause', 'resolution', 'communication'] as const;
type Element = (typeof ELEMENTS)[number];

const ZONES = [
  'UTC',
  'GMT',
  'PST',
  'PDT',
  'EST',
  'EDT',
  'CST',
  'CDT',
  'MST',
  'MDT',
  'CET',
  'CEST',
  'WET',
  'WEST',
  'EET',
  'EEST',
  'BST',
  'IST',
  'JST',
  'KST',
  'SGT',
  'AEST',
  'AEDT',
  'NZST',
  'NZDT',
];
const PHRASES: Record<Exclude<Element, 'context' | 'timezone' | 'impact' | 'duration'>, string[]> = {
  // Plain sentences state a cause with a connective ("..., so the matcher rejected ...") as often as with the word.
  cause: [
    'caused by',
    'were caused',
    'was caused',
    'because',
    'due to',
    'triggered by',
    'root cause',
    'the cause',
    'so the',
    'which made',
    'made the',
    'led to',
    'resulted in',
    'stemmed from',
    'broke',
    'introduced',
  ],
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
    'put back',
    'restarted',
    'disabled',
    'turned off',
    'switched off',
    'scaled up',
    'worked again',
    'succeeded again',
    'served normally again',
    'back to normal',
    'back to baseline',
    'returned to normal',
  ],
  communication: [
    'status page',
    'notified',
    'notification*',
    'communicat*',
    'email*',
    'support team',
    'announc*',
    'briefed',
    'health dashboard',
    'informed',
    'told customers',
  ],
};
const QUANTITY =
  /(?<![\d:])\d[\d,.]*\s*(?:%|percent|k\b|(?:thousand|million|billion)\b|customers?|users?|shoppers?|merchants?|riders?|drivers?|tenants?|members?|accounts?|requests?|orders?|transactions?|calls?|errors?|submissions?|attempts?|payments?|jobs?|messages?|queries|searches|uploads?|downloads?|bookings?|sessions?|views?|logins?|reports?)|[$€£]\s?\d|\b(?:USD|EUR|GBP)\s?\d/i;
const DURATION = /\b\d+(?:\.\d+)?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|[hms])\b/i;
const OFFSET = /[+-]\d{2}:\d{2}\b/;

/** "booking-gateway" is written "booking gateway" or "Booking Gateway" in prose. */
const words = (text: string) =>
  text
    .toLowerCase()
    .replace(/[-_./]+/g, ' ')
    .replace(/\s+/g, ' ');

function has(element: Element, summary: string, frontMatter: FrontMatter): boolean {
  const { service, timezone } = frontMatter;
  switch (element) {
    case 'context':
      return service ? words(summary).includes(words(service)) : findPhrase(summary, ['service', 'system', 'platform']) !== undefined;
    case 'timezone':
      return (
        OFFSET.test(summary) ||
        [...ZONES, ...(timezone ? [timezone] : [])].some((zone) => new RegExp(`\\b${zone.replace(/[+.]/g, '\\$&')}\\b`).test(summary))
      );
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
    const missing = options.require.filter((element) => !has(element, summary, context.doc.frontMatter));
    if (missing.length === 0) return [];
    return [{ message: `the summary does not state: ${missing.join(', ')}`, at: context.at('/summary', '/sections/summary') }];
  },
});
