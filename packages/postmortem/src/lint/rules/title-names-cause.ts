import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';
import { phrases } from './options.js';

export const titleNamesCause = defineRule({
  id: 'title-names-cause',
  severity: 'warning',
  summary: 'The title names a cause ("connection pool exhaustion caused outage") instead of what customers experienced.',
  why: 'Readers scan titles to find incidents like theirs; they know the symptom, not your internal cause.',
  hint: 'State the customer-facing problem, its duration and scope: "Shoppers unable to place orders for 41 minutes in EU-WEST".',
  options: z
    .object({
      causeWords: phrases([
        'caused',
        'cause',
        'due to',
        'because',
        'exhaust*',
        'misconfigur*',
        'bug',
        'regression',
        'leak',
        'deadlock',
        'expired',
        'root cause',
      ]),
      impactWords: phrases([
        'user*',
        'took over',
        'longer than',
        'customer*',
        'shopper*',
        'client*',
        'unable',
        'cannot',
        'could not',
        'fail*',
        'error*',
        'slow*',
        'latency',
        'unavailable',
        'degraded',
        'delay*',
        'missing',
        'lost',
        'timeout*',
        'down',
        'outage',
      ]),
    })
    .strict(),
  check(context, options) {
    const title = context.doc.frontMatter.title;
    if (!title) return [];
    const at = context.at('/frontMatter/title');
    const cause = findPhrase(title, options.causeWords);
    if (cause) return [{ message: `the title names a cause ("${cause.phrase}") instead of the customer-facing problem`, at }];
    if (!findPhrase(title, options.impactWords)) return [{ message: 'the title does not say what customers experienced', at }];
    return [];
  },
});
